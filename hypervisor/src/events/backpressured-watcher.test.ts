// SPDX-License-Identifier: Apache-2.0
/** Event writes respect backpressure: VIRQs coalesce into a pending bit, device events are bounded. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BackpressuredWatcher, MAX_HELD_DEVICE_EVENTS } from "./backpressured-watcher.js";
import type { DeviceEvent } from "./event-channel.js";

/** A transport whose writes complete only when the test says so (a guest that does not read). */
class FakeTransport {
  readonly written: string[] = [];
  readonly unfinished: (() => void)[] = [];
  readonly watcher = new BackpressuredWatcher({
    virq: (v, written) => {
      this.written.push(`virq ${v}`);
      this.unfinished.push(written);
    },
    device: (e, written) => {
      this.written.push(`device ${e.devIndex}`);
      this.unfinished.push(written);
    },
  });
  /** The guest reads: every write so far completes. */
  read(): void {
    for (const done of this.unfinished.splice(0)) done();
  }
}

function device(n: number): DeviceEvent {
  return {
    kind: "added",
    devIndex: n,
    virtioDeviceId: 2,
    peerDomid: 1,
    role: 1,
    tableGeneration: n,
  };
}

describe("BackpressuredWatcher", () => {
  test("while a VIRQ is in flight, a thousand more are held as one, written once the first was taken", () => {
    const t = new FakeTransport();
    for (let i = 0; i < 1000; i++) t.watcher.deliverVirq(9);
    assert.deepEqual(t.written, ["virq 9"]);
    assert.equal(t.watcher.held, 1);
    t.read();
    assert.deepEqual(t.written, ["virq 9", "virq 9"]);
    assert.equal(t.watcher.held, 0);
    t.read();
    assert.deepEqual(t.written, ["virq 9", "virq 9"], "nothing more was raised");
  });

  test("device events held for a guest that does not read are bounded, the oldest dropped", () => {
    const t = new FakeTransport();
    for (let i = 0; i < MAX_HELD_DEVICE_EVENTS + 10; i++) t.watcher.deliverDevice(device(i));
    assert.deepEqual(t.written, ["device 0"]);
    assert.equal(t.watcher.held, MAX_HELD_DEVICE_EVENTS);
    for (let i = 0; i < MAX_HELD_DEVICE_EVENTS; i++) t.read();
    assert.equal(t.written.length, MAX_HELD_DEVICE_EVENTS + 1);
    assert.equal(t.written[1], "device 10");
  });

  test("a closed watcher writes nothing, even when its last write completes", () => {
    const t = new FakeTransport();
    t.watcher.deliverVirq(9);
    t.watcher.deliverVirq(9);
    t.watcher.close();
    t.read();
    assert.deepEqual(t.written, ["virq 9"]);
  });
});
