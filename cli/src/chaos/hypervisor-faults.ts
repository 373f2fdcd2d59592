// SPDX-License-Identifier: Apache-2.0
/**
 * Hypervisor faults in a schedule (docs/chaos.md "Hypervisor faults"): `kill` (SIGKILL: a crash)
 * or `restart` (SIGTERM: a clean stop) of the `hmx up` hypervisor, which its supervisor starts
 * again from its state dir. Unlike a guest's, this fault is an outage of the toolstack itself, so
 * it lasts from the signal until the new hypervisor answers the toolstack again — that moment is
 * the fault's end (its heal) — and the run waits for it before applying any other toolstack
 * fault (one would be refused by a hypervisor that is not there).
 *
 * The Argo and link faults in force when the hypervisor died are not kept in its state (the
 * fault engine is not journaled): the new process starts with none, so they ended with the
 * restart, and are recorded as ending when it answers again (`endsByRestart`). The run then
 * applies again, on the new hypervisor, each of them whose scheduled end has not passed, for
 * what is left of it (`faultsToReapply`): a schedule's 30 s partition still holds for the rest
 * of its 30 s after a kill at second 10, as it would on a system whose fault outlived the crash.
 */
import type { FaultEventView, FaultSpecView } from "@hmx/client";
import { setTimeout as sleep } from "node:timers/promises";

import type { FleetStatus } from "../up/fleet-status.js";
import { applyProcessFault, runningFleet, type ProcessFault } from "./process-faults.js";

/** The process name a schedule uses for the hypervisor. */
export const HYPERVISOR = "hypervisor";

/** Whether `fault` takes the hypervisor away (a kill, a clean stop or a restart). */
export function isHypervisorOutage(fault: ProcessFault): boolean {
  return (
    fault.target === HYPERVISOR &&
    (fault.action === "kill" || fault.action === "terminate" || fault.action === "restart")
  );
}

export interface OutageOptions {
  /** The fleet's status (a restart rewrites it with the new pid and restart count). */
  readonly fleet?: () => FleetStatus;
  /** A toolstack call that succeeds once the hypervisor answers (e.g. `listDomains`). */
  readonly answers: () => Promise<unknown>;
  /** How long the hypervisor may take to answer again before the fault counts as failed. */
  readonly deadlineMs: number;
  readonly signal?: (pid: number, signal: NodeJS.Signals) => void;
  /** First poll delay; doubles up to 1 s. */
  readonly pollMs?: number;
}

/** A hypervisor fault done: what was signalled, and when the new hypervisor answered. */
export interface Outage {
  readonly line: string;
  readonly signalledAtMs: number;
  readonly backAtMs: number;
}

/**
 * Signals the hypervisor and waits, polling with backoff, until the supervisor has started a new
 * run (the fleet's restart count moved past the one signalled) and that run answers `answers`.
 * Rejects naming the deadline if it does not come back in time.
 */
export async function hypervisorOutage(
  fault: ProcessFault,
  options: OutageOptions,
): Promise<Outage> {
  const fleet = options.fleet ?? runningFleet;
  const before = fleet();
  const signalledAtMs = Date.now();
  const line = await applyProcessFault(fault, before, options.signal);
  const deadline = signalledAtMs + options.deadlineMs;
  let delay = options.pollMs ?? 50;
  let lastError = "no new hypervisor run yet";
  for (;;) {
    await sleep(delay);
    delay = Math.min(1000, delay * 2);
    const now = fleet().hypervisor;
    if (now.restarts > before.hypervisor.restarts && now.pid !== before.hypervisor.pid) {
      try {
        await options.answers();
        return { line, signalledAtMs, backAtMs: Date.now() };
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    if (Date.now() >= deadline)
      throw new Error(
        `the hypervisor did not answer again within ${options.deadlineMs}ms of ${fault.action} (${lastError})`,
      );
  }
}

/** A fault the run applied, and the hypervisor run (epoch) that holds it. */
export interface EpochFault {
  readonly id: string;
  readonly epoch: number;
}

/** A toolstack fault the run holds in force: what to apply again on a new hypervisor run. */
export interface HeldFault extends EpochFault {
  /** The fault as applied, its duration aside. */
  readonly spec: FaultSpecView;
  /** When the schedule ends it (Date.now() time). */
  readonly endsAtMs: number;
  /** Where it came from in the schedule ("timeline[2]", "generators[0] random-halves"). */
  readonly source: string;
}

/**
 * The faults to apply again on hypervisor run `epoch`, which has just answered: those an earlier
 * run held, not already applied again under a newer id (`superseded`), whose scheduled end is at
 * least 1 ms away, each with the time left. An end event does not exempt a fault: one whose
 * scheduled end has not come cannot have ended by its duration (it was applied for exactly the
 * time to that end), so its end came from the hypervisor stopping, and a clean stop ends every
 * fault it holds with an end event, as a kill ends them without one.
 */
export function faultsToReapply(
  held: readonly HeldFault[],
  superseded: ReadonlySet<string>,
  epoch: number,
  nowMs: number,
): { readonly fault: HeldFault; readonly forMs: number }[] {
  return held.flatMap((fault) => {
    const forMs = fault.endsAtMs - nowMs;
    return fault.epoch < epoch && !superseded.has(fault.id) && forMs >= 1 ? [{ fault, forMs }] : [];
  });
}

/** A new hypervisor run the fault watch reconnected to: the faults of earlier runs ended then. */
export interface HypervisorRestart {
  /** The epoch of the new run (the first run is 0). */
  readonly epoch: number;
  readonly timeMs: number;
}

/**
 * End events for the faults that were in force when their hypervisor run died: each ends at the
 * first restart after its epoch, as a `restart` end (its id as the run records it). Faults with
 * an end of their own, or of the current run, get none.
 */
export function endsByRestart(
  applied: readonly EpochFault[],
  endedIds: ReadonlySet<string>,
  restarts: readonly HypervisorRestart[],
): FaultEventView[] {
  const ends: FaultEventView[] = [];
  for (const fault of applied) {
    if (endedIds.has(fault.id)) continue;
    const restart = restarts.find((r) => r.epoch > fault.epoch);
    if (restart === undefined) continue;
    ends.push({
      kind: "restart",
      action: "end",
      target: HYPERVISOR,
      id: fault.id,
      detail: { endedBy: "the hypervisor restarted (its faults are not kept in its state)" },
      timeMs: restart.timeMs,
    });
  }
  return ends;
}
