// SPDX-License-Identifier: Apache-2.0
/**
 * Process faults on the `hmx up` running from this checkout (docs/chaos.md "Process faults"):
 * kill a guest or the hypervisor (SIGKILL, or SIGTERM for a clean stop), pause one (SIGSTOP, then
 * SIGCONT), restart one. The pids come from the fleet status file `hmx up` keeps; its supervisor
 * restarts whatever exits, a guest resuming its domain from its state dir and the hypervisor its
 * domains from its own (`--state-dir`), so a kill is a crash and its recovery, not an ending.
 */
import { setTimeout as sleep } from "node:timers/promises";

import { readFleetStatus, type FleetStatus } from "../up/fleet-status.js";
import { readUpPointer } from "../up/run-dir.js";
import type { ReceiverFigures } from "./delivery-checks.js";

/** What a process fault does to its target. */
export const PROCESS_ACTIONS = ["kill", "terminate", "stop", "cont", "restart"] as const;
export type ProcessFaultAction = (typeof PROCESS_ACTIONS)[number];

/** The signal of each action: a restart is a clean stop the supervisor follows with a start. */
const SIGNAL: Readonly<Record<ProcessFaultAction, NodeJS.Signals>> = {
  kill: "SIGKILL",
  terminate: "SIGTERM",
  stop: "SIGSTOP",
  cont: "SIGCONT",
  restart: "SIGTERM",
};

export interface ProcessFault {
  readonly action: ProcessFaultAction;
  /** A guest's name, or `hypervisor`. */
  readonly target: string;
  /** For `stop`: send SIGCONT after this long (0: stay stopped until `cont`). */
  readonly forMs?: number;
}

/**
 * Where process faults act, so commands and schedules need not care: the `hmx up` supervisor's
 * processes (signals, below) or the compose fleet's containers (docker-process-faults.ts).
 */
export interface ProcessControl {
  /** What it acts on, for messages: "hmx up", "compose project hmx-…". */
  readonly name: string;
  apply(fault: ProcessFault): Promise<string>;
  /** The receiving workloads' figures, where this backend reads them itself. */
  readonly receivers?: () => Promise<readonly ReceiverFigures[]>;
}

/** The `hmx up` running from this checkout (its receivers are read by `hmx chaos run`). */
export const UP_PROCESS_CONTROL: ProcessControl = {
  name: "hmx up",
  apply: (fault) => applyProcessFault(fault),
};

/** The pid of `target` in the fleet; an error names the target and the names there are. */
export function targetPid(status: FleetStatus, target: string): number {
  const pid =
    target === "hypervisor"
      ? status.hypervisor.pid
      : status.guests.find((g) => g.name === target)?.pid;
  if (pid === undefined)
    throw new Error(
      `no process ${JSON.stringify(target)} in this hmx up (processes: hypervisor, ${status.guests.map((g) => g.name).join(", ")})`,
    );
  return pid;
}

/** The running `hmx up`'s fleet status; an error says there is none. */
export function runningFleet(): FleetStatus {
  const up = readUpPointer();
  if (up === undefined)
    throw new Error("process faults need the hmx up running from this checkout: none is running");
  return readFleetStatus(up.runDir);
}

/**
 * Applies `fault` to the process `status` names, returning a line saying what was done. A `stop`
 * with `forMs` waits that long and continues the process, so it is never left stopped by us.
 */
export async function applyProcessFault(
  fault: ProcessFault,
  status: FleetStatus = runningFleet(),
  signal: (pid: number, signal: NodeJS.Signals) => void = (pid, sig) => process.kill(pid, sig),
): Promise<string> {
  const pid = targetPid(status, fault.target);
  const sig = SIGNAL[fault.action];
  signal(pid, sig);
  if (fault.action === "stop" && fault.forMs !== undefined && fault.forMs > 0) {
    await sleep(fault.forMs);
    signal(pid, "SIGCONT");
    return `${fault.target} (pid ${pid}) stopped for ${fault.forMs}ms, then continued`;
  }
  if (fault.action === "stop" || fault.action === "cont")
    return `${sig} sent to ${fault.target} (pid ${pid})`;
  const restarted = fault.target === "hypervisor" || status.restartGuests;
  return `${sig} sent to ${fault.target} (pid ${pid}); ${restarted ? "hmx up restarts it" : "it stays down: hmx up restarts guests only with --restart-guests"}`;
}
