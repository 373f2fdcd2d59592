// SPDX-License-Identifier: Apache-2.0
/**
 * `RequestWatchdog`'s rule (virtio-argo.md §4.6; request-watchdog.ts), checked with explicit
 * clock values: a request in flight longer than the timeout is overdue, one within it is not,
 * and a receive buffer posted in advance (`sentAt` 0) never is.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RequestWatchdog, type WatchedQueue } from "./request-watchdog.js";

function watchdog(queues: WatchedQueue[]): RequestWatchdog {
  return new RequestWatchdog(
    1000,
    () => queues,
    () => undefined,
  );
}

describe("front-end request watchdog", () => {
  it("a request in flight longer than the timeout is overdue, and its queue is named", () => {
    const w = watchdog([
      { index: 0, inflight: new Map([[3, { sentAt: 5000 }]]) },
      { index: 1, inflight: new Map([[7, { sentAt: 100 }]]) },
    ]);
    assert.equal(w.check(1101), 1);
  });

  it("a request within the timeout is not overdue", () => {
    const w = watchdog([{ index: 0, inflight: new Map([[3, { sentAt: 100 }]]) }]);
    assert.equal(w.check(1100), undefined);
  });

  it("a receive buffer posted in advance is never overdue", () => {
    const w = watchdog([{ index: 2, inflight: new Map([[0, { sentAt: 0 }]]) }]);
    assert.equal(w.check(1_000_000), undefined);
  });
});
