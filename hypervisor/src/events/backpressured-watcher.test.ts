// SPDX-License-Identifier: Apache-2.0
/** Event writes respect backpressure: VIRQs coalesce into a pending bit, device events are bounded. */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, test } from "node:test";
import { BackpressuredWatcher, MAX_HELD_DEVICE_EVENTS } from "./backpressured-watcher.js";
import type { DeviceEvent } from "./event-channel.js";

class FakeStream extends EventEmitter {
  writableNeedDrain = false;
  readonly written: string[] = [];
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

function watcherOn(stream: FakeStream): BackpressuredWatcher {
  return new BackpressuredWatcher(stream, {
    virq: (v) => stream.written.push(`virq ${v}`),
    device: (e) => stream.written.push(`device ${e.devIndex}`),
  });
}

describe("BackpressuredWatcher", () => {
  test("while the stream wants a drain, a thousand VIRQs are held as one and written once on drain", () => {
    const stream = new FakeStream();
    const watcher = watcherOn(stream);
    watcher.deliverVirq(9);
    assert.deepEqual(stream.written, ["virq 9"]);
    stream.writableNeedDrain = true;
    for (let i = 0; i < 1000; i++) watcher.deliverVirq(9);
    assert.deepEqual(stream.written, ["virq 9"]);
    assert.equal(watcher.held, 1);
    stream.writableNeedDrain = false;
    stream.emit("drain");
    assert.deepEqual(stream.written, ["virq 9", "virq 9"]);
    assert.equal(watcher.held, 0);
  });

  test("device events held for a stream that does not read are bounded, the oldest dropped", () => {
    const stream = new FakeStream();
    stream.writableNeedDrain = true;
    const watcher = watcherOn(stream);
    for (let i = 0; i < MAX_HELD_DEVICE_EVENTS + 10; i++) watcher.deliverDevice(device(i));
    assert.equal(watcher.held, MAX_HELD_DEVICE_EVENTS);
    stream.writableNeedDrain = false;
    stream.emit("drain");
    assert.equal(stream.written.length, MAX_HELD_DEVICE_EVENTS);
    assert.equal(stream.written[0], "device 10");
  });

  test("a closed watcher writes nothing, even on a late drain", () => {
    const stream = new FakeStream();
    stream.writableNeedDrain = true;
    const watcher = watcherOn(stream);
    watcher.deliverVirq(9);
    watcher.close();
    stream.writableNeedDrain = false;
    stream.emit("drain");
    assert.deepEqual(stream.written, []);
  });
});
