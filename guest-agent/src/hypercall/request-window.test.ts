// SPDX-License-Identifier: Apache-2.0
/** Tests of the Session's request-id window on its own, without a stream. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { propertySeed } from "@hmx/virtio/test-utils";
import { RequestWindow, type WindowEntry } from "./request-window.js";

function batch(count: number): WindowEntry {
  return { firstId: 0, count, prefix: 0, done: false };
}

function drainWrites<E extends WindowEntry>(w: RequestWindow<E>): E[] {
  const out: E[] = [];
  for (let e = w.nextToWrite(); e !== undefined; e = w.nextToWrite()) out.push(e);
  return out;
}

describe("RequestWindow", () => {
  it("admitted batches get consecutive ids in queue order, stamped as they are admitted", () => {
    const stamped: number[] = [];
    const w = new RequestWindow<WindowEntry>(100, (e) => stamped.push(e.firstId));
    const [a, b, c] = [batch(3), batch(1), batch(4)];
    for (const e of [a, b, c]) w.enqueue(e);
    w.admit();
    assert.deepEqual([a.firstId, b.firstId, c.firstId], [1, 4, 5]);
    assert.deepEqual(stamped, [1, 4, 5]);
    assert.equal(w.nextId, 9);
    assert.equal(w.inFlight, 8);
  });

  it("at most `limit` calls are in flight; a batch above the limit goes out alone once nothing is", () => {
    const w = new RequestWindow<WindowEntry>(4);
    const [a, b, big] = [batch(3), batch(2), batch(9)];
    for (const e of [a, b, big]) w.enqueue(e);
    w.admit();
    assert.deepEqual([w.inFlight, w.queued], [3, 2], "b would make 5 > 4");
    w.complete(a);
    w.retire();
    w.admit();
    assert.deepEqual([w.inFlight, w.queued], [2, 1], "b in, the big one waits");
    w.complete(b);
    w.retire();
    w.admit();
    assert.deepEqual([w.inFlight, w.queued, big.firstId], [9, 0, 6]);
  });

  it("ids the domain already executed are never handed out again, and skipPast never goes back", () => {
    const w = new RequestWindow<WindowEntry>(10);
    w.skipPast(41);
    w.skipPast(7);
    const e = batch(2);
    w.enqueue(e);
    w.admit();
    assert.equal(e.firstId, 42);
  });

  it("ackThrough covers exactly the results all in: the oldest batch's answered prefix", () => {
    const w = new RequestWindow<WindowEntry>(10);
    assert.equal(w.ackThrough(), 0);
    const [a, b] = [batch(3), batch(3)];
    w.enqueue(a);
    w.enqueue(b);
    w.admit();
    a.prefix = 2;
    assert.equal(w.ackThrough(), 2);
    a.prefix = 3;
    w.complete(a);
    w.retire();
    assert.equal(w.ackThrough(), 3, "b's first result is not in");
    w.complete(b);
    w.retire();
    assert.equal(w.ackThrough(), 6);
  });

  it("ackThrough stops short of any id a live batch runs after, so the hypervisor still has it", () => {
    const a = { ...batch(3), after: 0 };
    const x = { ...batch(2), after: 0 };
    // c runs after a's last call (id 3); x, admitted between them, is on no chain.
    const c = { ...batch(2), after: 0 };
    const w = new RequestWindow<typeof a>(20, (e) => {
      if (e === c) e.after = a.firstId + a.count - 1;
    });
    for (const e of [a, x, c]) w.enqueue(e);
    w.admit();
    a.prefix = 3;
    w.complete(a);
    w.retire();
    x.prefix = 2;
    w.complete(x);
    w.retire();
    assert.equal(w.ackThrough(), 2, "not 5: c still needs 3's result");
    c.prefix = 2;
    w.complete(c);
    w.retire();
    assert.equal(w.ackThrough(), 7, "once c is answered, everything is");
  });

  it("rewind writes every live batch again, oldest first, skipping completed ones", () => {
    const w = new RequestWindow<WindowEntry>(10);
    const [a, b, c] = [batch(1), batch(1), batch(1)];
    for (const e of [a, b, c]) w.enqueue(e);
    w.admit();
    assert.deepEqual(drainWrites(w), [a, b, c]);
    assert.deepEqual(drainWrites(w), [], "each written once per stream");
    w.complete(b);
    w.rewind();
    assert.deepEqual(drainWrites(w), [a, c]);
  });

  it("drain empties the window: live admitted batches, then queued ones", () => {
    const w = new RequestWindow<WindowEntry>(2);
    const [a, b, c] = [batch(1), batch(1), batch(2)];
    for (const e of [a, b, c]) w.enqueue(e);
    w.admit();
    w.complete(a);
    assert.deepEqual(w.drain(), [b, c]);
    assert.deepEqual([w.inFlight, w.queued, w.ackThrough()], [0, 0, w.nextId - 1]);
  });

  it("find answers the live batch of any id through thousands of batches, retirements and compactions (property)", () => {
    const seed = propertySeed("request-window find");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 8 }), fc.nat(99)), {
          minLength: 1500,
          maxLength: 3000,
        }),
        (steps) => {
          const w = new RequestWindow<WindowEntry>(64);
          const admitted: WindowEntry[] = [];
          for (const [count, roll] of steps) {
            w.enqueue(batch(count));
            w.admit();
            // Complete some live batch (mostly the oldest, as results arrive in order).
            const live = [...w.live()];
            const pick = roll < 80 ? live[0] : live[roll % Math.max(1, live.length)];
            if (pick !== undefined && roll % 3 !== 0) w.complete(pick);
            w.retire();
            for (const e of w.live()) if (!admitted.includes(e)) admitted.push(e);
          }
          let expectedInFlight = 0;
          for (const e of admitted) {
            if (!e.done) expectedInFlight += e.count;
            for (let id = e.firstId; id < e.firstId + e.count; id++) {
              assert.equal(w.find(id), e.done ? undefined : e, `id ${id}`);
            }
          }
          assert.equal(w.inFlight, expectedInFlight);
          assert.equal(w.find(w.nextId), undefined, "an id not handed out yet");
        },
      ),
      { seed, numRuns: 20 },
    );
  });
});
