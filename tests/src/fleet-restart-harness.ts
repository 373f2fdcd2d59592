// SPDX-License-Identifier: Apache-2.0
/**
 * Support for the tests in which the hypervisor dies under a running fleet (issue 13): a small
 * fleet of `hmx guest` processes (ping/echo, traffic/sink, a VirtIO back end and a front end),
 * SIGKILL of the hypervisor and a restart on the same ports, and the hook that turns any
 * unhandled promise rejection in a guest into its own exit code, so a test can tell "exited as
 * documented" from "crashed on a rejection nobody handled".
 */
import { HMX_BIN } from "@hmx/cli/supervisor";
import { num, type Testbed, type TestProcess } from "@hmx/testkit";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The exit code of a guest that had an unhandled rejection: no hmx command uses it. */
export const UNHANDLED_REJECTION_EXIT = 70;

const HOOK = `process.on("unhandledRejection", (err) => { console.error("unhandled rejection:", err); process.exit(${UNHANDLED_REJECTION_EXIT}); });`;

/** Environment that loads the hook into a child before hmx's own code. */
export const UNHANDLED_REJECTION_HOOK_ENV: Readonly<Record<string, string>> = {
  NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(HOOK)}`,
};

/** Whether this build's `hmx hypervisor` has `--state-dir` (issue 13 item 1). */
export function hypervisorHasStateDir(): boolean {
  const help = spawnSync(process.execPath, [HMX_BIN, "hypervisor", "--help"], {
    encoding: "utf8",
  });
  return help.stdout.includes("--state-dir");
}

/** Why a test that needs `--state-dir` cannot pass on this build, or false when it can. */
export function stateDirTodo(): string | false {
  return hypervisorHasStateDir()
    ? false
    : "needs `hmx hypervisor --state-dir` (issue 13 item 1, branch h13): runs, and fails, until it is merged";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** SIGKILLs the testbed's hypervisor and starts a new one on the same two ports. */
export async function killAndRestartHypervisor(
  bed: Testbed,
  args: readonly string[],
  downMs = 0,
  env: Readonly<Record<string, string>> = {},
): Promise<void> {
  const old = bed.hypervisor;
  old.child.process.kill("SIGKILL");
  await old.child.exited;
  if (downMs > 0) await sleep(downMs);
  bed.hypervisor = bed.spawn(
    "hypervisor",
    ["hypervisor", "--listen", bed.listen, "--control-listen", bed.controlListen, ...args],
    { ...env, HMX_ADMIN_TOKEN: bed.adminToken },
  );
  await bed.hypervisor.waitFor((r) => r.msg === "hypervisor ready", 20_000, "ready after restart");
}

/** A guest process's exit code, waiting at most `timeoutMs` for it. */
export async function exitCodeOf(p: TestProcess, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${p.child.name} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const { code, signal } = await Promise.race([p.child.exited, timeout]);
    return signal === null ? code : null;
  } finally {
    clearTimeout(timer);
  }
}

/** The small fleet every restart test runs: each kind of guest the issue saw die. */
export interface RestartFleet {
  readonly echo: TestProcess;
  readonly pinger: TestProcess;
  readonly sink: TestProcess;
  readonly streamer: TestProcess;
  readonly vbackend: TestProcess;
  readonly vdemo: TestProcess;
  readonly all: readonly TestProcess[];
}

/**
 * Creates the domains through the toolstack and starts the guests against `address` (the
 * hypervisor, or a proxy in front of it), each with the unhandled-rejection hook.
 */
export async function startRestartFleet(
  bed: Testbed,
  address = bed.listen,
  extraGuestArgs: readonly string[] = [],
): Promise<RestartFleet> {
  const dir = mkdtempSync(join(tmpdir(), "hmx-restart-"));
  const memoryBytes = 16 * 1024 * 1024;
  const make = (
    name: string,
    devices: Parameters<Testbed["toolstack"]["createDomain"]>[0]["devices"] = [],
  ) => bed.toolstack.createDomain({ name, label: `${name}_t`, memoryBytes, devices });
  const run = (name: string, credential: string, args: readonly string[]): TestProcess =>
    bed.spawn(
      name,
      ["guest", "--hypervisor", address, "--stats-interval-ms", "200", ...extraGuestArgs, ...args],
      { HMX_DOMAIN_CREDENTIAL: credential, ...UNHANDLED_REJECTION_HOOK_ENV },
    );
  const echoDom = await make("echo");
  const sinkDom = await make("sink");
  const pingDom = await make("pinger");
  const streamDom = await make("streamer");
  const backDom = await make("vbackend");
  const backendDomid = backDom.domid;
  const demoDom = await make("vdemo", [
    { type: "blk", backendDomid, capacityBytes: 8 * 1024 * 1024 },
    { type: "net", backendDomid },
    { type: "console", backendDomid },
  ]);
  const echo = run("echo", echoDom.credential, ["--workload", "echo", "--port", "7"]);
  const sink = run("sink", sinkDom.credential, ["--workload", "sink", "--port", "9"]);
  const vbackend = run("vbackend", backDom.credential, [
    "--workload",
    "virtio-backend",
    "--image-dir",
    join(dir, "images"),
    "--console-dir",
    join(dir, "console"),
  ]);
  await echo.waitFor((r) => r.msg === "guest ready", 20_000, "echo ready");
  await sink.waitFor((r) => r.msg === "guest ready", 20_000, "sink ready");
  const pinger = run("pinger", pingDom.credential, [
    "--workload",
    "ping",
    "--peer",
    String(echoDom.domid),
    "--interval-ms",
    "50",
  ]);
  const streamer = run("streamer", streamDom.credential, [
    "--workload",
    "traffic",
    "--peer",
    String(sinkDom.domid),
    "--rate",
    "300",
  ]);
  const vdemo = run("vdemo", demoDom.credential, [
    "--workload",
    "virtio-demo",
    "--interval-ms",
    "200",
  ]);
  return {
    echo,
    pinger,
    sink,
    streamer,
    vbackend,
    vdemo,
    all: [echo, pinger, sink, streamer, vbackend, vdemo],
  };
}

/** Waits until every guest of the fleet shows traffic: pings, a stream, disk I/O. */
export async function fleetIsBusy(f: RestartFleet, timeoutMs = 30_000): Promise<void> {
  const stats = (p: TestProcess, key: string, min: number, what: string) =>
    p.waitFor((r) => r.msg === "guest stats" && num(r, key) >= min, timeoutMs, what);
  await stats(f.pinger, "received", 5, "5 ping replies");
  await stats(f.sink, "received", 100, "100 messages in the sink");
  await stats(f.vdemo, "blkWrites", 1, "a virtio-blk write");
}

/** The latest value of a counter a guest logs in its "guest stats" lines (NaN: none yet). */
export function latest(p: TestProcess, key: string): number {
  return num(p.last("guest stats"), key);
}
