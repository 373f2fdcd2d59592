// SPDX-License-Identifier: Apache-2.0
/**
 * One `hmx up --json` run for the end-to-end tests, as a script would drive it: its JSON lines
 * collected, a bounded wait for a status that satisfies a condition, Ctrl-C to stop. Each run
 * gets its own pointer file (HMX_UP_POINTER) so test files running side by side do not share one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HMX_BIN } from "@hmx/cli/supervisor";

/** A guest's entry in a status record. */
export interface GuestStatus {
  readonly running: boolean;
  readonly ready: boolean;
  readonly stats: Record<string, number | string>;
}

/** The `--json` status record (the fields the tests read). */
export interface UpStatus {
  readonly msg: "status";
  readonly rings: number;
  readonly domains: readonly { name: string }[];
  readonly guests: Readonly<Record<string, GuestStatus>>;
}

/** What `.hmx/up.json` tells other commands about the running `hmx up`. */
export interface UpPointer {
  readonly pid: number;
  readonly runDir: string;
  readonly consoleDir: string;
  readonly control: string;
  readonly adminTokenFile: string;
}

export class HmxUpRun {
  readonly marker = randomUUID();
  readonly records: Record<string, unknown>[] = [];
  /** Everything printed, for failure messages. */
  output = "";
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly scratch = mkdtempSync(join(tmpdir(), "hmx-up-test-"));
  readonly pointerFile = join(this.scratch, "up.json");

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [HMX_BIN, "up", "--json", ...args], {
      env: { ...process.env, HMX_TEST_MARKER: this.marker, HMX_UP_POINTER: this.pointerFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let pending = "";
    this.child.stdout?.on("data", (d: Buffer) => {
      this.output += d.toString();
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) this.records.push(JSON.parse(line) as Record<string, unknown>);
    });
    this.child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code) => {
        rmSync(this.scratch, { recursive: true, force: true });
        resolve(code);
      });
    });
  }

  /** The environment the children of a command run with `HMX_UP_POINTER` of this run. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, HMX_UP_POINTER: this.pointerFile };
  }

  /** The latest status record. */
  get status(): UpStatus | undefined {
    for (let i = this.records.length - 1; i >= 0; i--)
      if (this.records[i]?.["msg"] === "status") return this.records[i] as unknown as UpStatus;
    return undefined;
  }

  /** The pointer `hmx up` published (once the hypervisor is ready). */
  pointer(): UpPointer {
    return JSON.parse(readFileSync(this.pointerFile, "utf8")) as UpPointer;
  }

  /** Waits (bounded) until a status satisfies `done`; throws with the output if it never does. */
  async waitFor(
    done: (s: UpStatus) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<UpStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.status;
      if (s !== undefined && done(s)) return s;
      if (Date.now() > deadline)
        throw new Error(`no ${what} within ${timeoutMs} ms; output:\n${this.output.slice(-3000)}`);
      if (this.child.exitCode !== null)
        throw new Error(
          `hmx up exited early (${this.child.exitCode}):\n${this.output.slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Ctrl-C, and its exit code. */
  async stop(): Promise<number | null> {
    this.child.kill("SIGINT");
    return this.exited;
  }
}

/** A guest's numeric stat (0 when it has not reported it). */
export function stat(s: UpStatus, guest: string, key: string): number {
  const v = s.guests[guest]?.stats[key];
  return typeof v === "number" ? v : 0;
}
