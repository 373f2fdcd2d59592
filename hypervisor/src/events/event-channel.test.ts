// SPDX-License-Identifier: Apache-2.0
/** The VIRQ pending bit: raises coalesce, and delivery waits for the caller's round to end. */
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, test } from "node:test";
import { EventChannel, type EventWatcher } from "./event-channel.js";

/** A watcher that records every VIRQ delivered to it. */
function recorder(): EventWatcher & { readonly virqs: number[] } {
  const virqs: number[] = [];
  return {
    virqs,
    deliverVirq(virq) {
      virqs.push(virq);
    },
  };
}

describe("EventChannel", () => {
  test("a raise is not delivered inside the raising call, but on the next turn", async () => {
    const events = new EventChannel();
    const w = recorder();
    events.attach(1, w);
    events.raiseVirq(1);
    assert.deepEqual(w.virqs, []);
    await nextTurn();
    assert.equal(w.virqs.length, 1);
  });

  test("deliverNow delivers a round's thousand raises as one event, at once and only once", async () => {
    const events = new EventChannel();
    const w = recorder();
    const other = recorder();
    events.attach(1, w);
    events.attach(2, other);
    for (let i = 0; i < 1000; i++) events.raiseVirq(1);
    events.deliverNow();
    assert.equal(w.virqs.length, 1);
    assert.deepEqual(other.virqs, []);
    // The deferred flush the raises queued is gone with it: nothing more on the next turns.
    await nextTurn();
    await nextTurn();
    assert.equal(w.virqs.length, 1);
  });

  test("deliverNow with nothing raised delivers nothing", async () => {
    const events = new EventChannel();
    const w = recorder();
    events.attach(1, w);
    events.deliverNow();
    await nextTurn();
    assert.deepEqual(w.virqs, []);
  });

  test("a raise after deliverNow is delivered again (the pending bit was cleared)", async () => {
    const events = new EventChannel();
    const w = recorder();
    events.attach(1, w);
    events.raiseVirq(1);
    events.deliverNow();
    events.raiseVirq(1);
    assert.equal(w.virqs.length, 1);
    await nextTurn();
    assert.equal(w.virqs.length, 2);
  });

  test("an unwatched domain's bit stays set through deliverNow until a watcher attaches", async () => {
    const events = new EventChannel();
    events.raiseVirq(3);
    events.deliverNow();
    const w = recorder();
    events.attach(3, w);
    await nextTurn();
    assert.equal(w.virqs.length, 1);
  });
});
