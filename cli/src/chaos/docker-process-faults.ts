// SPDX-License-Identifier: Apache-2.0
/**
 * Process faults on the compose fleet, through the Docker Engine API (docs/chaos.md "Process
 * faults"): the same actions as on `hmx up` (process-faults.ts), on a guest's container or the
 * hypervisor's.
 *
 * | action    | Engine calls                                   | what it is                       |
 * | --------- | ---------------------------------------------- | -------------------------------- |
 * | kill      | kill SIGKILL, wait until it is down, start     | a crash and the restart after it |
 * | terminate | stop (SIGTERM, SIGKILL after the grace), start | a clean stop and a start         |
 * | restart   | restart                                        | `docker restart`                 |
 * | stop      | pause (the cgroup freezer: SIGSTOP for all)    | a frozen container (see pause()) |
 * | cont      | unpause                                        |                                  |
 *
 * Why a kill starts the container itself: Docker counts a container it killed or stopped
 * through its API as stopped by hand and skips its restart policy (Engine 20.10: an
 * `unless-stopped` container sent SIGKILL by `docker kill` stays exited, code 137). The fault
 * therefore plays the restart policy's part: with `forMs` the container stays down that long,
 * else it is started at once. If an Engine restarted it first, the start is a no-op (304).
 * The fault resolves once the container runs again, so a schedule's heal is the restart.
 */
import { setTimeout as sleep } from "node:timers/promises";

import type { ComposeFleet, ContainerApi } from "./docker-fleet.js";
import type { ProcessControl, ProcessFault } from "./process-faults.js";

/** Seconds a clean stop waits before SIGKILL: docker-compose.yml's longest stop_grace_period. */
export const STOP_GRACE_S = 15;

/** Starts a stopped container; one already running again (restart policy) is left as it is. */
async function startAgain(api: ContainerApi): Promise<void> {
  try {
    await api.start();
  } catch (err) {
    if ((err as { statusCode?: unknown }).statusCode !== 304) throw err;
  }
}

/**
 * Tries of a pause the kernel's freezer could not complete, and the wait between them: 5 tries
 * 300 ms apart were not enough in the soak (load 20, runc 1.1 on cgroup v1), about 4.5 s is.
 */
export const FREEZE_TRIES = 10;
const FREEZE_RETRY_MS = 500;

/**
 * Pauses a container. runc gives up freezing a cgroup whose tasks do not stop in time (a
 * process in uninterruptible sleep, e.g. a just-started Node reading its modules on a loaded
 * host) and answers 500 "unable to freeze", leaving the container running: that is tried
 * again; any other refusal is final.
 */
async function pause(api: ContainerApi): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await api.pause();
      return attempt;
    } catch (err) {
      if (attempt >= FREEZE_TRIES || !(err as Error).message.includes("unable to freeze"))
        throw err;
      await sleep(FREEZE_RETRY_MS);
    }
  }
}

/** Applies `fault` to the container its target names, returning a line saying what was done. */
export async function applyContainerFault(
  fleet: ComposeFleet,
  fault: ProcessFault,
): Promise<string> {
  const c = await fleet.find(fault.target);
  const who = `${c.shortName} (container ${c.name})`;
  const forMs = fault.forMs ?? 0;
  return fleet.engine(async () => {
    switch (fault.action) {
      case "kill":
      case "terminate": {
        if (fault.action === "kill") await c.api.kill({ signal: "SIGKILL" });
        else await c.api.stop({ t: STOP_GRACE_S });
        await c.api.wait({ condition: "not-running" });
        if (forMs > 0) await sleep(forMs);
        await startAgain(c.api);
        const how = fault.action === "kill" ? "killed (SIGKILL)" : "stopped (SIGTERM)";
        return `${who} ${how}, started again${forMs > 0 ? ` after ${forMs}ms down` : ""}`;
      }
      case "restart":
        await c.api.restart({ t: STOP_GRACE_S });
        return `${who} restarted (SIGTERM, then started)`;
      case "stop": {
        const tries = await pause(c.api);
        const after = tries > 1 ? ` (frozen at try ${tries})` : "";
        if (forMs === 0) return `${who} paused (every process frozen) until cont${after}`;
        await sleep(forMs);
        await c.api.unpause();
        return `${who} paused for ${forMs}ms, then unpaused${after}`;
      }
      case "cont":
        await c.api.unpause();
        return `${who} unpaused`;
    }
  });
}

/**
 * Process faults and receiver figures of one compose project. Faults on one target run one after
 * another: two generators may draw the same guest at once, and Docker cannot pause a container
 * that a kill has taken down (nor should a kill race a pause's unpause), so the later fault
 * starts when the earlier one has healed.
 */
export function composeProcessControl(fleet: ComposeFleet): ProcessControl {
  const busy = new Map<string, Promise<unknown>>();
  return {
    name: `compose project ${fleet.project}`,
    apply: (fault) => {
      const previous = busy.get(fault.target) ?? Promise.resolve();
      const run = previous.catch(() => undefined).then(() => applyContainerFault(fleet, fault));
      busy.set(fault.target, run);
      return run;
    },
    receivers: () => fleet.receivers(),
  };
}
