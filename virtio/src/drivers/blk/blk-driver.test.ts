// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-blk front-end driver end to end over the loopback transport (driver → split ring in
 * the driver's memory → device model → backend): read / write / flush / get-id, read-only and
 * out-of-range errors, more concurrent requests than the queue holds, every feature combination
 * of INDIRECT_DESC and EVENT_IDX, and a hostile device (duplicate completion, interrupt flood).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VirtioDeviceBase, VirtioDeviceId, type VirtioDevice } from "../../device.js";
import { BlkDevice } from "../../devices/blk/blk-device.js";
import { MemoryBlockBackend } from "../../devices/blk/block-backend.js";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  features,
  TRANSPORT_FEATURES,
} from "../../features.js";
import { ConfigSpace } from "../../config-space.js";
import { DmaAllocator } from "../../memory/dma-allocator.js";
import { InMemoryGuestRam } from "../../memory/in-memory-guest-ram.js";
import { settle } from "../../test-utils/device-harness.js";
import { LoopbackTransport } from "../../transport/loopback-transport.js";
import type { VirtioInterruptEvent, VirtioTransport } from "../../transport/transport.js";
import { VirtioDriver } from "../virtio-driver.js";
import { VirtioDriverError } from "../virtio-driver-error.js";
import { BlkDriver } from "./blk-driver.js";

function loopback(device: VirtioDevice): LoopbackTransport {
  return new LoopbackTransport({
    ram: new InMemoryGuestRam(8 << 20),
    dma: new DmaAllocator(0x10000, (8 << 20) - 0x10000),
    device,
  });
}

const pattern = (n: number, salt: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 13 + salt) & 0xff);

function isDriverError(kind: string) {
  return (e: unknown) => e instanceof VirtioDriverError && e.kind === kind;
}

describe("virtio-blk driver over the loopback transport", () => {
  for (const [name, without] of [
    ["indirect + event idx", 0n],
    ["direct descriptors, event idx", features(VIRTIO_F_INDIRECT_DESC)],
    ["indirect, flag-based suppression", features(VIRTIO_F_EVENT_IDX)],
    [
      "direct descriptors, flag-based suppression",
      features(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX),
    ],
  ] as const) {
    it(`writes then reads back the same sectors (${name})`, async () => {
      const backend = new MemoryBlockBackend(256 * 512);
      const blk = await BlkDriver.create(loopback(new BlkDevice({ backend })), {
        withoutFeatures: without,
      });
      const data = pattern(3 * 512, 7);
      await blk.write(10, data);
      assert.deepEqual(await blk.read(10, 3), data);
      assert.deepEqual(backend.snapshot().subarray(10 * 512, 13 * 512), data);
      await blk.close();
    });
  }

  it("flush reaches the backend and getId returns the device's id", async () => {
    const backend = new MemoryBlockBackend(8 * 512);
    const blk = await BlkDriver.create(loopback(new BlkDevice({ backend, id: "serial-42" })));
    await blk.flush();
    assert.equal(backend.flushes, 1);
    assert.equal(await blk.getId(), "serial-42");
  });

  it("a read-only device reports readOnly and a write fails with requestFailed (IOERR)", async () => {
    const blk = await BlkDriver.create(
      loopback(new BlkDevice({ backend: new MemoryBlockBackend(8 * 512), readOnly: true })),
    );
    assert.equal(blk.readOnly, true);
    await assert.rejects(
      blk.write(0, new Uint8Array(512)),
      (e: unknown) => isDriverError("requestFailed")(e) && (e as Error).message.includes("IOERR"),
    );
  });

  it("a read past the capacity fails with requestFailed (IOERR) and the device keeps working", async () => {
    const blk = await BlkDriver.create(
      loopback(new BlkDevice({ backend: new MemoryBlockBackend(8 * 512) })),
    );
    await assert.rejects(blk.read(7, 2), isDriverError("requestFailed"));
    assert.equal((await blk.read(7, 1)).length, 512);
  });

  it("more concurrent requests than the queue holds all complete (the driver waits for free descriptors)", async () => {
    const backend = new MemoryBlockBackend(512 * 512);
    const blk = await BlkDriver.create(loopback(new BlkDevice({ backend, queueSize: 4 })), {
      withoutFeatures: features(VIRTIO_F_INDIRECT_DESC),
    });
    const writes = Array.from({ length: 40 }, (_, i) => blk.write(i, pattern(512, i)));
    await Promise.all(writes);
    const reads = await Promise.all(Array.from({ length: 40 }, (_, i) => blk.read(i, 1)));
    reads.forEach((r, i) => {
      assert.deepEqual(r, pattern(512, i));
    });
  });

  it("a hostile device completing a request twice makes the driver fail: FAILED, reset, requests rejected", async () => {
    class DoubleCompleter extends VirtioDeviceBase {
      readonly deviceType = VirtioDeviceId.block;
      readonly name = "evil";
      readonly availableFeatures = TRANSPORT_FEATURES;
      readonly queueMaxSizes = [8];
      readonly config = new ConfigSpace(8);
      queueNotify(i: number): void {
        const q = this.queue(i);
        for (let c = q?.pop(); c !== undefined && q !== undefined; c = q.pop()) {
          c.writer().write(new Uint8Array(c.writableBytes));
          q.addUsed(c.head, c.writableBytes);
          q.addUsed(c.head, c.writableBytes);
        }
        q?.signalUsed();
      }
    }
    const t = loopback(new DoubleCompleter());
    const blk = await BlkDriver.create(t);
    const first = blk.read(0, 1);
    const second = blk.read(1, 1);
    const results = await Promise.allSettled([first, second]);
    for (let i = 0; i < 5; i++) await settle();
    // With one or two chains outstanding the duplicate shows as a used.idx jump or a stale id.
    const v = blk.core.violations;
    assert.equal(v.count("invalidUsedIdx") + v.count("usedIdNotOutstanding"), 1);
    assert.equal(blk.core.state.kind, "failed");
    assert.ok(
      results.some((r) => r.status === "rejected" && isDriverError("deviceFailed")(r.reason)),
    );
    assert.equal(await t.getStatus(), 0, "the device was reset after FAILED");
    await assert.rejects(blk.read(0, 1), isDriverError("deviceFailed"));
  });

  it("an interrupt flood from the device is counted once per window as interruptFlood and causes no extra work", async () => {
    const handlers: ((e: VirtioInterruptEvent) => void)[] = [];
    const fake = {
      onInterrupt: (h: (e: VirtioInterruptEvent) => void) => {
        handlers.push(h);
        return () => undefined;
      },
    } as unknown as VirtioTransport;
    const core = new VirtioDriver(fake, { interruptFloodLimit: 50 });
    // No queue 9 was set up, so these interrupts are spurious and ignored (legal, §2.3).
    for (let i = 0; i < 1000; i++) for (const h of handlers) h({ kind: "usedBuffer", queue: 9 });
    await settle();
    assert.equal(core.violations.count("interruptFlood"), 1);
    assert.equal(core.state.kind, "initializing", "a flood alone does not fail the driver");
  });
});
