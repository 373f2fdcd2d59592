// SPDX-License-Identifier: Apache-2.0
/**
 * Every process the benchmark starts goes through here, so that none is left behind: children
 * are tracked from birth; `killAll` asks them to stop (SIGTERM), waits briefly and then kills
 * (SIGKILL); an `exit` hook SIGKILLs whatever is still alive even if the orchestrator dies of
 * an exception, and SIGINT / SIGTERM run the same cleanup. `Worker` wraps a forked worker
 * script with request / reply over IPC (`ipc.ts`), each request bounded by a timeout.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type {
  PairsCommand,
  VirtioPartyCommand,
  WorkerCommand,
  WorkerFatal,
  WorkerReply,
} from "./ipc.js";

const live = new Set<ChildProcess>();
/** Extra node flags for every child (e.g. `--cpu-prof`); set once by the orchestrator. */
let childNodeFlags: readonly string[] = [];

export function setChildNodeFlags(flags: readonly string[]): void {
  childNodeFlags = flags;
}

export function nodeFlags(): readonly string[] {
  return childNodeFlags;
}
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping every child process`);
      void killAll().finally(() => process.exit(130));
    });
  }
}

function track(child: ChildProcess): ChildProcess {
  hookExit();
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Children still running. */
export function liveChildren(): number {
  return live.size;
}

/** Stops `child`: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Stops every live child. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c)));
}

/** Path of a compiled script next to this one in bench/dist. */
export function distScript(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/**
 * Spawns `command args` (no IPC) and resolves with the first stdout JSON line whose `msg` is
 * `readyMsg`; rejects if the process exits or `timeoutMs` passes first. Later stdout lines go
 * to `onLine` (the pipe keeps being read, so the child never blocks on a full pipe).
 */
export function spawnUntilReady(
  command: string,
  args: readonly string[],
  options: {
    env: NodeJS.ProcessEnv;
    cwd: string;
    readyMsg: string;
    timeoutMs: number;
    ipc?: boolean;
    onLine?: (line: string) => void;
  },
): Promise<{ child: ChildProcess; ready: Record<string, unknown>; stderr: () => string }> {
  const child = track(
    spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe", ...(options.ipc === true ? (["ipc"] as const) : [])],
    }),
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (s: string) => {
    stderr = (stderr + s).slice(-8192);
  });
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, ready?: Record<string, unknown>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err !== null || ready === undefined) reject(err ?? new Error("no ready line"));
      else resolve({ child, ready, stderr: () => stderr });
    };
    const timer = setTimeout(() => {
      finish(
        new Error(
          `${args.join(" ")}: no "${options.readyMsg}" line within ${options.timeoutMs} ms\n${stderr}`,
        ),
      );
    }, options.timeoutMs);
    child.once("exit", (code, signal) => {
      finish(
        new Error(
          `${args.join(" ")} exited (${signal ?? code}) before "${options.readyMsg}"\n${stderr}`,
        ),
      );
    });
    child.once("error", (err) => {
      finish(err);
    });
    const stdout = child.stdout;
    if (stdout === null) {
      finish(new Error("no stdout pipe"));
      return;
    }
    createInterface({ input: stdout }).on("line", (line) => {
      options.onLine?.(line);
      if (done) return;
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        if (obj["msg"] === options.readyMsg) finish(null, obj);
      } catch {
        // not JSON: ignore
      }
    });
  });
}

/** Every worker not yet closed: one dying unexpectedly fails the requests of all of them. */
const workers = new Set<Worker>();

/**
 * A forked worker script driven over IPC. If any worker dies or reports a fatal error while it
 * is not being closed, every pending request of every worker rejects at once, so that a
 * phase waiting on the survivors (e.g. a sender blocked on the dead receiver's full ring)
 * fails now rather than at its timeout.
 */
export class Worker {
  readonly child: ChildProcess;
  #closing = false;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;
  #dead: Error | null = null;

  constructor(
    readonly name: string,
    script: string,
    execArgv: readonly string[] = [],
  ) {
    this.child = track(
      fork(distScript(script), [], {
        serialization: "advanced",
        execArgv: [...childNodeFlags, ...execArgv],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    this.child.on("message", (raw: unknown) => {
      const m = raw as WorkerReply | WorkerFatal;
      if ("fatal" in m) {
        this.#failAll(new Error(`${this.name} failed: ${m.fatal}`));
        return;
      }
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${this.name}: ${m.error}`));
    });
    this.child.once("exit", (code, signal) => {
      const err = new Error(`${this.name} exited (${signal ?? code})`);
      if (this.#closing) this.#die(err);
      else this.#failAll(err);
    });
    workers.add(this);
  }

  #failAll(err: Error): void {
    for (const w of workers)
      w.#die(w === this ? err : new Error(`${w.name}: aborted because ${err.message}`));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  #die(err: Error): void {
    if (this.#dead === null) workers.delete(this);
    this.#dead ??= err;
    for (const p of this.#pending.values()) p.reject(this.#dead);
    this.#pending.clear();
  }

  /** Sends `command`; resolves with the worker's result, rejects on error, exit or timeout. */
  request<T>(
    command: WorkerCommand | PairsCommand | VirtioPartyCommand,
    timeoutMs: number,
  ): Promise<T> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: "${command.cmd}" got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...command, id });
    });
  }

  /** Asks the worker to close its transport and exit; kills it if it does not within 5 s. */
  async close(): Promise<void> {
    this.#closing = true;
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else
        this.child.once("exit", () => {
          resolve();
        });
    });
    if (this.#dead === null) {
      try {
        await this.request({ cmd: "close" }, 5000);
      } catch {
        // stopped below either way
      }
    }
    // A clean exit lets node write what it writes at exit (e.g. a --cpu-prof profile).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      exited,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000))),
    ]);
    clearTimeout(timer);
    await stopChild(this.child);
  }
}

/**
 * Forks `script` and resolves with the first IPC message it sends (its result); rejects if it
 * exits first or `timeoutMs` passes, and always makes sure it is gone afterwards.
 */
export async function forkForResult<T>(
  script: string,
  args: readonly string[],
  execArgv: readonly string[],
  timeoutMs: number,
): Promise<T> {
  const child = track(
    fork(distScript(script), [...args], {
      serialization: "advanced",
      execArgv: [...execArgv],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  try {
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${script}: no result within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once("message", (m: unknown) => {
        clearTimeout(timer);
        resolve(m as T);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${signal ?? code}) without a result`));
      });
    });
  } finally {
    await stopChild(child);
  }
}
