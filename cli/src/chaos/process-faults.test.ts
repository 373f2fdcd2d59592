// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { FleetStatus } from "../up/fleet-status.js";
import { applyProcessFault, targetPid } from "./process-faults.js";

const fleet: FleetStatus = {
  restartGuests: true,
  hypervisor: { pid: 100, restarts: 0 },
  guests: [
    { name: "sink", workload: "sink", pid: 101, restarts: 0 },
    { name: "echo", workload: "echo", pid: 102, restarts: 1 },
  ],
};

function recorder(): {
  sent: [number, NodeJS.Signals][];
  signal: (pid: number, s: NodeJS.Signals) => void;
} {
  const sent: [number, NodeJS.Signals][] = [];
  return { sent, signal: (pid, s) => sent.push([pid, s]) };
}

describe("process faults reach the fleet's processes by name", () => {
  it("kill sends SIGKILL to the guest's current pid, terminate and restart SIGTERM", async () => {
    const r = recorder();
    await applyProcessFault({ action: "kill", target: "sink" }, fleet, r.signal);
    await applyProcessFault({ action: "terminate", target: "echo" }, fleet, r.signal);
    await applyProcessFault({ action: "restart", target: "hypervisor" }, fleet, r.signal);
    assert.deepEqual(r.sent, [
      [101, "SIGKILL"],
      [102, "SIGTERM"],
      [100, "SIGTERM"],
    ]);
  });

  it("stop with a duration continues the process after it, so it is never left stopped", async () => {
    const r = recorder();
    const line = await applyProcessFault(
      { action: "stop", target: "sink", forMs: 5 },
      fleet,
      r.signal,
    );
    assert.deepEqual(r.sent, [
      [101, "SIGSTOP"],
      [101, "SIGCONT"],
    ]);
    assert.match(line, /stopped for 5ms, then continued/);
  });

  it("an unknown name is refused naming it and the processes there are, and nothing is sent", async () => {
    const r = recorder();
    assert.throws(() => targetPid(fleet, "nope"), /"nope".*hypervisor, sink, echo/);
    await assert.rejects(
      applyProcessFault({ action: "kill", target: "nope" }, fleet, r.signal),
      /no process "nope"/,
    );
    assert.deepEqual(r.sent, []);
  });
});
