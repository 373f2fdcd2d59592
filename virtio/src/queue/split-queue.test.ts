// SPDX-License-Identifier: Apache-2.0
/**
 * The device side of a split queue (VirtIO 1.2 §2.7.7–§2.7.10, §2.7.13 from the device's view):
 * pop / addUsed through the rings, notification suppression with and without EVENT_IDX, setup
 * validation, and the hostile-driver cases of virtio-argo.md §4.9 at the queue level.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MockSplitQueue } from "../test-utils/mock-split-queue.js";
import { SplitQueue } from "./split-queue.js";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_USED_F_NO_NOTIFY,
} from "./split-ring.js";
import { VirtQueueError } from "./virtqueue-error.js";

describe("split queue, device side (VirtIO 1.2 §2.7)", () => {
  it("pops chains in available-ring order and returns them through the used ring", () => {
    const mq = new MockSplitQueue();
    const q = mq.createDeviceQueue();
    const b1 = mq.addBuffer([Uint8Array.of(1)], [4]);
    const b2 = mq.addBuffer([Uint8Array.of(2)], [4]);
    const c1 = q.pop();
    const c2 = q.pop();
    assert.equal(c1?.head, b1.head);
    assert.equal(c2?.head, b2.head);
    assert.equal(q.pop(), undefined);
    q.addUsed(b2.head, 3);
    q.addUsed(b1.head, 0);
    assert.equal(mq.usedIdx(), 2);
    assert.deepEqual(mq.usedElem(0), { id: b2.head, len: 3 });
    assert.deepEqual(mq.usedElem(1), { id: b1.head, len: 0 });
  });

  it("the free-running indexes wrap at 2^16", () => {
    const mq = new MockSplitQueue({ size: 4 });
    const q = mq.createDeviceQueue();
    const buf = mq.allocBuffer(1);
    for (let i = 0; i < 70_000; i += 1) {
      const head = mq.buildDescChain([{ addr: buf, len: 1, flags: VIRTQ_DESC_F_WRITE }]);
      mq.addAvail(head);
      const c = q.pop();
      assert.equal(c?.head, head);
      q.addUsed(head, 1);
    }
    assert.equal(mq.usedIdx(), 70_000 & 0xffff);
    assert.equal(q.nextAvail, 70_000 & 0xffff);
  });

  it("signals the driver after used buffers unless avail.flags has VIRTQ_AVAIL_F_NO_INTERRUPT", () => {
    const mq = new MockSplitQueue();
    const q = mq.createDeviceQueue();
    const b = mq.addBuffer([], [1]);
    q.pop();
    q.signalUsed();
    assert.deepEqual(mq.interrupts, [], "nothing used yet, nothing to signal");
    q.addUsed(b.head, 1);
    q.signalUsed();
    assert.deepEqual(mq.interrupts, [0]);
    mq.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT);
    const b2 = mq.addBuffer([], [1]);
    q.pop();
    q.addUsed(b2.head, 1);
    q.signalUsed();
    assert.deepEqual(mq.interrupts, [0], "suppressed");
  });

  it("with EVENT_IDX signals only when used.idx crosses used_event", () => {
    const mq = new MockSplitQueue();
    const q = mq.createDeviceQueue({ eventIdx: true });
    mq.setUsedEvent(2); // "interrupt me when the third buffer is used"
    for (let i = 0; i < 4; i++) {
      const b = mq.addBuffer([], [1]);
      q.pop();
      q.addUsed(b.head, 1);
      q.signalUsed();
    }
    assert.deepEqual(mq.interrupts, [0], "exactly one interrupt, for used.idx 2 -> 3");
  });

  it("with EVENT_IDX writes avail_event = next_avail after each pop (kick me for anything new)", () => {
    const mq = new MockSplitQueue();
    const q = mq.createDeviceQueue({ eventIdx: true });
    mq.addBuffer([], [1]);
    mq.addBuffer([], [1]);
    q.pop();
    assert.equal(mq.availEvent(), 1);
    q.pop();
    assert.equal(mq.availEvent(), 2);
  });

  it("disableNotification sets VIRTQ_USED_F_NO_NOTIFY and enableNotification clears it and reports pending chains", () => {
    const mq = new MockSplitQueue();
    const q = mq.createDeviceQueue();
    q.disableNotification();
    assert.equal(mq.usedFlags(), VIRTQ_USED_F_NO_NOTIFY);
    mq.addBuffer([], [1]);
    assert.equal(q.enableNotification(), true);
    assert.equal(mq.usedFlags(), 0);
  });

  it("avail.idx more than queue size ahead breaks the queue with kind invalidAvailIdx and asks for a reset", () => {
    const mq = new MockSplitQueue({ size: 8 });
    const q = mq.createDeviceQueue();
    mq.setAvailIdx(9);
    assert.equal(q.pop(), undefined);
    assert.equal(q.broken?.kind, "invalidAvailIdx");
    assert.equal(mq.broken.length, 1);
    assert.equal(mq.violations.count("invalidAvailIdx"), 1);
    // Broken stays broken, without re-reporting (no log flood).
    assert.equal(q.pop(), undefined);
    assert.equal(mq.violations.count("invalidAvailIdx"), 1);
  });

  it("a malformed chain is completed with used.len 0, counted, and the next chain is still served", () => {
    const mq = new MockSplitQueue({ size: 8 });
    const q = mq.createDeviceQueue();
    const buf = mq.allocBuffer(4);
    mq.writeDesc(5, { addr: buf, len: 4, flags: VIRTQ_DESC_F_NEXT, next: 5 });
    mq.addAvail(5);
    const good = mq.addBuffer([], [2]);
    const c = q.pop();
    assert.equal(c?.head, good.head);
    assert.deepEqual(mq.usedElem(0), { id: 5, len: 0 });
    assert.equal(mq.violations.count("descriptorLoop"), 1);
  });

  it("an available head outside the table is dropped and counted as descIndexOutOfBounds", () => {
    const mq = new MockSplitQueue({ size: 8 });
    const q = mq.createDeviceQueue();
    mq.addAvail(200);
    assert.equal(q.pop(), undefined);
    assert.equal(mq.usedIdx(), 0);
    assert.equal(mq.violations.count("descIndexOutOfBounds"), 1);
  });

  it("a queue whose size is not a power of two, or above the maximum, is refused with kind invalidQueueSize", () => {
    const mq = new MockSplitQueue({ size: 8 });
    const hooks = {
      violations: mq.violations,
      interrupt: () => undefined,
      onBroken: () => undefined,
    };
    const base = {
      index: 0,
      descAddr: mq.descAddr,
      availAddr: mq.availAddr,
      usedAddr: mq.usedAddr,
      eventIdx: false,
      indirect: false,
    };
    for (const [size, maxSize] of [
      [6, 8],
      [16, 8],
      [0, 8],
    ] as const) {
      assert.throws(
        () => SplitQueue.create(mq.ram, { ...base, size, maxSize }, hooks),
        (e: unknown) => e instanceof VirtQueueError && e.kind === "invalidQueueSize",
      );
    }
  });

  it("rings outside guest memory or misaligned are refused with kinds ringOutOfBounds / ringMisaligned", () => {
    const mq = new MockSplitQueue({ size: 8, memorySize: 0x4000 });
    const hooks = {
      violations: mq.violations,
      interrupt: () => undefined,
      onBroken: () => undefined,
    };
    const base = {
      index: 0,
      size: 8,
      maxSize: 8,
      descAddr: mq.descAddr,
      availAddr: mq.availAddr,
      usedAddr: mq.usedAddr,
      eventIdx: false,
      indirect: false,
    };
    assert.throws(
      () => SplitQueue.create(mq.ram, { ...base, usedAddr: 0x3ff0 }, hooks),
      (e: unknown) => e instanceof VirtQueueError && e.kind === "ringOutOfBounds",
    );
    assert.throws(
      () => SplitQueue.create(mq.ram, { ...base, descAddr: mq.descAddr + 8 }, hooks),
      (e: unknown) => e instanceof VirtQueueError && e.kind === "ringMisaligned",
    );
    assert.throws(
      () => SplitQueue.create(mq.ram, { ...base, usedAddr: mq.usedAddr + 2 }, hooks),
      (e: unknown) => e instanceof VirtQueueError && e.kind === "ringMisaligned",
    );
  });
});
