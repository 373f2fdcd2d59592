// SPDX-License-Identifier: Apache-2.0
/** What the `hmx up` status shows of a guest's last stats record. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_LINE, renderEvent, renderLine, workloadSummary, type Snapshot } from "./dashboard.js";
import type { Fleet, GuestState } from "./fleet.js";

function guest(stats: Record<string, unknown> | undefined, ready = true): GuestState {
  return {
    spec: { name: "g", label: "g_t", workload: "virtio-demo", args: [] },
    domid: 1,
    child: undefined as never,
    stats,
    ready,
  };
}

test("a guest without stats shows whether it is running yet", () => {
  assert.equal(workloadSummary(guest(undefined, false)), "starting");
  assert.equal(workloadSummary(guest(undefined, true)), "running");
});

test("RTT shows only once there is a round trip; device and ping counters show in a fixed order", () => {
  const idle = workloadSummary(
    guest({ rttP50Us: 0, rttP99Us: 0, devices: 3, pings: 0, received: 0, unreachable: 0 }),
  );
  assert.equal(idle, "devices 3, pings 0, received 0, unreachable 0");
  const busy = workloadSummary(
    guest({
      rttP50Us: 1500,
      rttP99Us: 4000,
      pings: 5,
      received: 4,
      lost: 0,
      unreachable: 1,
      other: 7,
    }),
  );
  assert.equal(busy, "rtt p50 1.50 ms p99 4.00 ms, pings 5, received 4, lost 0, unreachable 1");
});

test("the pipe status line stays short however many guests report however many counters", () => {
  const stats = {
    rttP50Us: 123456,
    rttP99Us: 999999,
    sent: 1e12,
    received: 1e12,
    lost: 7,
    gaps: 3,
    blkVerifyErrors: 1,
  };
  const guests = Array.from({ length: 64 }, (_, i) => ({
    ...guest(stats),
    spec: { name: `guest-with-a-long-name-${i}`, label: "g_t", workload: "fleet", args: [] },
    child: { running: true } as never,
  }));
  const fleet = { guests, events: [] } as unknown as Fleet;
  const domains = Array.from({ length: 64 }, (_, i) => ({
    domid: i + 1,
    rings: 3,
    counters: { messagesReceived: 1e9, errors: 2 },
  })) as unknown as Snapshot["domains"];
  const line = renderLine(fleet, { at: 10_000, domains }, { at: 7_000, domains }, 0);
  assert.ok(line.length <= MAX_LINE, `${line.length} chars: ${line}`);
  assert.equal(
    line,
    "hmx up 10s: 64/64 guests running, 64 domains, 192 rings, 0 msgs/s, 128 errnos, rtt p50 123.46 ms, 704 data errors",
  );
  const event = renderEvent({ at: 0, source: "vrogue", text: "x".repeat(1000) });
  assert.equal(event.length, MAX_LINE);
});
