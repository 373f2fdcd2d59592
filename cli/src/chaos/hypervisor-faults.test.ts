// SPDX-License-Identifier: Apache-2.0
/**
 * Hypervisor faults in a schedule: the outage lasts until a new hypervisor run answers (not
 * merely until the signal, nor while the old pid is still listed); the fault watch resumes on
 * the new run with its fault ids kept apart by epoch; faults the dead hypervisor held end at the
 * restart, and only those.
 */
import assert from "node:assert/strict";
import type { FaultEventView, FaultView } from "@hmx/client";
import { describe, it } from "node:test";
import { setImmediate as turn } from "node:timers/promises";

import type { FleetStatus } from "../up/fleet-status.js";
import { epochId, ResumingFaultWatch } from "./hypervisor-fault-watch.js";
import {
  endsByRestart,
  faultsToReapply,
  hypervisorOutage,
  isHypervisorOutage,
} from "./hypervisor-faults.js";

function fleet(pid: number, restarts: number): FleetStatus {
  return { restartGuests: true, hypervisor: { pid, restarts }, guests: [] };
}

describe("hypervisor outage", () => {
  it("a kill, a terminate and a restart of the hypervisor are outages; a stop or a guest's kill is not", () => {
    for (const action of ["kill", "terminate", "restart"] as const)
      assert.equal(isHypervisorOutage({ action, target: "hypervisor" }), true, action);
    assert.equal(isHypervisorOutage({ action: "stop", target: "hypervisor" }), false);
    assert.equal(isHypervisorOutage({ action: "kill", target: "sink" }), false);
  });

  it("ends only when the supervisor has a new run and that run answers", async () => {
    const signals: [number, string][] = [];
    let status = fleet(100, 0);
    let polls = 0;
    let answered = 0;
    const outage = await hypervisorOutage(
      { action: "kill", target: "hypervisor" },
      {
        fleet: () => {
          // The old run is listed for two polls, then the new one (which refuses once).
          if (++polls === 3) status = fleet(200, 1);
          return status;
        },
        answers: () => {
          answered++;
          return answered === 1 ? Promise.reject(new Error("UNAVAILABLE")) : Promise.resolve();
        },
        deadlineMs: 10_000,
        signal: (pid, sig) => {
          signals.push([pid, sig]);
        },
        pollMs: 1,
      },
    );
    assert.deepEqual(signals, [[100, "SIGKILL"]]);
    assert.equal(answered, 2, "the old run was never asked; the new one until it answered");
    assert.ok(outage.backAtMs >= outage.signalledAtMs);
    assert.match(outage.line, /SIGKILL sent to hypervisor \(pid 100\)/);
  });

  it("a hypervisor that does not come back within the deadline fails, naming it", async () => {
    await assert.rejects(
      hypervisorOutage(
        { action: "restart", target: "hypervisor" },
        {
          fleet: () => fleet(100, 0),
          answers: () => Promise.resolve(),
          deadlineMs: 30,
          signal: () => undefined,
          pollMs: 5,
        },
      ),
      /did not answer again within 30ms of restart/,
    );
  });
});

describe("faults across a hypervisor restart", () => {
  it("only faults of an earlier run with no end of their own end at the first restart after it", () => {
    const ends = endsByRestart(
      [
        { id: "argo-1", epoch: 0 }, // ended by itself
        { id: "argo-2", epoch: 0 }, // in force at the first kill
        { id: "argo-1@1", epoch: 1 }, // in force at the second kill
        { id: "argo-2@2", epoch: 2 }, // the current run's: still its own to end
      ],
      new Set(["argo-1"]),
      [
        { epoch: 1, timeMs: 1000 },
        { epoch: 2, timeMs: 5000 },
      ],
    );
    assert.deepEqual(
      ends.map((e) => [e.id, e.action, e.timeMs]),
      [
        ["argo-2", "end", 1000],
        ["argo-1@1", "end", 5000],
      ],
    );
  });

  it("only faults of an earlier run, not applied again yet, with time left are applied again", () => {
    const spec = { argo: { type: "pause", from: ["g1"] } } as const;
    const held = (id: string, epoch: number, endsAtMs: number) => ({
      id,
      epoch,
      spec,
      endsAtMs,
      source: `timeline[${id}]`,
    });
    const again = faultsToReapply(
      [
        held("argo-1", 0, 4000), // ended by its duration before the kill
        held("argo-2", 0, 9000), // applied again on run 1 already (as argo-1@1)
        held("argo-1@1", 1, 9000), // in force at the second kill: left 4000 ms
        held("argo-3", 0, 5000), // its scheduled end has come: nothing left
        held("argo-4", 0, 5001), // 1 ms left
        held("argo-1@2", 2, 9000), // the new run's own
      ],
      new Set(["argo-2"]),
      2,
      5000,
    );
    assert.deepEqual(
      again.map((a) => [a.fault.id, a.forMs]),
      [
        ["argo-1@1", 4000],
        ["argo-4", 1],
      ],
    );
  });

  it("the watch resumes on the new hypervisor with backoff, its fault ids kept apart by epoch", async () => {
    const streams: { onEvent: (e: FaultEventView) => void; fail: (err: Error) => void }[] = [];
    let up = true;
    const client = {
      watchFaults(onEvent: (e: FaultEventView) => void) {
        let fail!: (err: Error) => void;
        let end!: () => void;
        const done = new Promise<void>((resolve, reject) => {
          fail = reject;
          end = resolve;
        });
        if (!up)
          queueMicrotask(() => {
            fail(new Error("UNAVAILABLE: connect refused"));
          });
        streams.push({ onEvent, fail });
        return { cancel: end, done };
      },
      listFaults(): Promise<FaultView[]> {
        return up ? Promise.resolve([]) : Promise.reject(new Error("UNAVAILABLE"));
      },
    };
    const seen: string[] = [];
    const watch = new ResumingFaultWatch(client, (e) => seen.push(e.id), { retryMs: 1 });
    await watch.ready();
    const event = (id: string): FaultEventView => ({
      kind: "argo",
      action: "start",
      target: "g1",
      id,
      detail: {},
      timeMs: 0,
    });
    streams[0]?.onEvent(event("argo-1"));
    // The hypervisor dies: the stream fails, and reopening fails until it is back.
    up = false;
    streams[0]?.fail(new Error("UNAVAILABLE: hypervisor is shutting down"));
    await turn();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(watch.epoch, 0, "not resumed while the hypervisor is down");
    up = true;
    await watch.ready();
    const epoch = (): number => watch.epoch;
    while (epoch() === 0) await turn();
    await watch.ready();
    assert.equal(watch.epoch, 1);
    streams.at(-1)?.onEvent(event("argo-1"));
    assert.deepEqual(seen, ["argo-1", epochId("argo-1", 1)]);
    assert.equal(seen[1], "argo-1@1");
    assert.equal(watch.restarts.length, 1);
    assert.deepEqual(watch.losses, ["UNAVAILABLE: hypervisor is shutting down"]);
    assert.ok(
      streams.length > 2,
      "reopened more than once: it retried while the hypervisor was down",
    );
    await watch.cancel();
  });
});
