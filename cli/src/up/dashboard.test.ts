// SPDX-License-Identifier: Apache-2.0
/** What the `hmx up` status shows of a guest's last stats record. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { workloadSummary } from "./dashboard.js";
import type { GuestState } from "./fleet.js";

function guest(stats: Record<string, unknown> | undefined, ready = true): GuestState {
  return { spec: { name: "g", label: "g_t", workload: "virtio-demo", args: [] }, domid: 1, child: undefined as never, stats, ready };
}

test("a guest without stats shows whether it is running yet", () => {
  assert.equal(workloadSummary(guest(undefined, false)), "starting");
  assert.equal(workloadSummary(guest(undefined, true)), "running");
});

test("RTT shows only once there is a round trip; device and ping counters show in a fixed order", () => {
  const idle = workloadSummary(guest({ rttP50Us: 0, rttP99Us: 0, devices: 3, pings: 0, received: 0, unreachable: 0 }));
  assert.equal(idle, "devices 3, pings 0, received 0, unreachable 0");
  const busy = workloadSummary(guest({ rttP50Us: 1500, rttP99Us: 4000, pings: 5, received: 4, lost: 0, unreachable: 1, other: 7 }));
  assert.equal(busy, "rtt p50 1.50 ms p99 4.00 ms, pings 5, received 4, lost 0, unreachable 1");
});
