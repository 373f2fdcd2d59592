// SPDX-License-Identifier: Apache-2.0
/**
 * Starts the hypervisor as its own process the way an operator does —
 * `node cli/bin/hmx.js hypervisor --listen 127.0.0.1:0 --control-listen 127.0.0.1:0
 * --argo-mac-permissive` with a random `HMX_ADMIN_TOKEN` — and waits for its
 * "hypervisor ready" JSON line to learn the bound addresses. If the CLI cannot start (it
 * exits before that line), the bench's own launcher (`hypervisor-launcher.ts`, the same
 * service through the same config parser) is used instead and the result says so.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { distScript, nodeFlags, spawnUntilReady, stopChild } from "./children.js";

/** The repository root (bench/dist/ is two levels down). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface HypervisorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly listen: string;
  readonly controlListen: string;
  readonly adminToken: string;
  /** "cli" or "bench-fallback", with the CLI's error in the latter case. */
  readonly launcher: string;
  readonly launcherNote: string | null;
  stop(): Promise<void>;
}

/** Logging stays at info: the ready line is an info line (the rest, e.g. one line per
 * created domain, is read and dropped). */
const ARGS = [
  "--listen",
  "127.0.0.1:0",
  "--control-listen",
  "127.0.0.1:0",
  "--argo-mac-permissive",
];

export interface HypervisorProcessOptions {
  /** Extra node flags for the hypervisor only (e.g. `--trace-gc`). */
  readonly nodeArgs?: readonly string[];
  /** Every stdout line of the hypervisor is appended here (for investigating). */
  readonly logFile?: string;
  /** Extra `hmx hypervisor` flags (e.g. a `--max-total-memory` that holds every domain). */
  readonly args?: readonly string[];
}

export async function startHypervisorProcess(
  options: HypervisorProcessOptions = {},
): Promise<HypervisorProcess> {
  const nodeArgs = options.nodeArgs ?? [];
  const logFile = options.logFile;
  const onLine =
    logFile === undefined
      ? undefined
      : (line: string) => {
          appendFileSync(logFile, line + "\n");
        };
  const adminToken = randomBytes(24).toString("hex");
  const env = { ...process.env, HMX_ADMIN_TOKEN: adminToken };
  const args = [...ARGS, ...(options.args ?? [])];
  const attempt = (scriptAndCommand: readonly string[]) =>
    spawnUntilReady(process.execPath, [...nodeFlags(), ...nodeArgs, ...scriptAndCommand, ...args], {
      env,
      cwd: REPO_ROOT,
      readyMsg: "hypervisor ready",
      timeoutMs: 15_000,
      ...(onLine === undefined ? {} : { onLine }),
    });
  let launcher = "cli";
  let launcherNote: string | null = null;
  let started;
  try {
    started = await attempt([join(REPO_ROOT, "cli", "bin", "hmx.js"), "hypervisor"]);
  } catch (err) {
    launcher = "bench-fallback";
    launcherNote = `hmx hypervisor did not start: ${(err as Error).message.split("\n").slice(0, 3).join(" | ")}`;
    started = await attempt([distScript("hypervisor-launcher.js")]);
  }
  const { child, ready } = started;
  const listen = ready["listen"];
  const controlListen = ready["controlListen"];
  if (typeof listen !== "string" || typeof controlListen !== "string") {
    await stopChild(child);
    throw new Error(`the ready line lacks listen/controlListen: ${JSON.stringify(ready)}`);
  }
  return {
    child,
    pid: child.pid ?? -1,
    listen,
    controlListen,
    adminToken,
    launcher,
    launcherNote,
    stop: () => stopChild(child, 5000),
  };
}
