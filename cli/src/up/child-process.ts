// SPDX-License-Identifier: Apache-2.0
/**
 * One supervised child of `hmx up` (the hypervisor or a guest agent): spawned in its own process
 * group so the terminal's Ctrl-C reaches only `hmx up`, which then stops the children in order;
 * `HMX_EXIT_WITH_PARENT` makes the child exit by itself if `hmx up` dies, so no process is left
 * behind either way. Its stdout is read as JSON log lines and handed to `onRecord`. Secrets the
 * parent holds in its environment are not inherited: a child gets only those `env` names.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The `hmx` entry point, to run our own subcommands as children. */
export const HMX_BIN = fileURLToPath(new URL("../../bin/hmx.js", import.meta.url));

/** Environment variables that carry a secret (admin token, credentials, enrolment tokens). */
export function isSecretVariable(name: string): boolean {
  return (
    name === "HMX_ADMIN_TOKEN" ||
    name === "HMX_DOMAIN_CREDENTIAL" ||
    name === "HMX_ENROLMENT_TOKEN" ||
    name.startsWith("HMX_ENROLMENT_TOKEN_")
  );
}

/** The parent's environment without its secrets, plus `env` (which may pass one on purpose). */
export function childEnvironment(
  env: Readonly<Record<string, string>>,
  parent: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(parent).filter(([name]) => !isSecretVariable(name)),
  );
  return { ...inherited, ...env, HMX_EXIT_WITH_PARENT: "1" };
}

export type LogRecord = Record<string, unknown> & { msg?: string; level?: number };

export class SupervisedChild {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitedFlag = false;

  constructor(
    readonly name: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
    onRecord: (record: LogRecord) => void,
    onText: (line: string) => void,
  ) {
    this.process = spawn(process.execPath, [HMX_BIN, ...args], {
      env: childEnvironment(env),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const read = (stream: NodeJS.ReadableStream | null) => {
      if (stream === null) return;
      createInterface({ input: stream }).on("line", (line) => {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          record = undefined;
        }
        if (typeof record === "object" && record !== null) onRecord(record as LogRecord);
        else if (line.trim() !== "") onText(line);
      });
    };
    read(this.process.stdout);
    read(this.process.stderr);
    this.exited = new Promise((resolve) => {
      this.process.once("exit", (code, signal) => {
        this.exitedFlag = true;
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.process.kill("SIGTERM");
    const timer = setTimeout(() => this.process.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
