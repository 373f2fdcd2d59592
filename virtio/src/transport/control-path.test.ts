// SPDX-License-Identifier: Apache-2.0
/**
 * The control-path additions over the loopback transport (the same `VirtioDeviceController` the
 * Argo back end uses): the SET_CONFIG generation check (reference §4.5, the config-generation
 * race of §4.11) and the virtqueue reset of VirtIO 1.2 §2.6.1 (VIRTIO_F_RING_RESET; reference
 * §2.9, "RESET_VQUEUE" and "reset with requests in flight" of §4.11).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BlkDevice } from "../devices/blk/blk-device.js";
import { MemoryBlockBackend } from "../devices/blk/block-backend.js";
import { ConsoleDevice } from "../devices/console/console-device.js";
import { VIRTIO_CONSOLE_CFG_EMERG_WR } from "../spec/virtio-console.js";
import { BlkDriver } from "../drivers/blk/blk-driver.js";
import { ConsoleDriver } from "../drivers/console/console-driver.js";
import { VirtioDriverError } from "../drivers/virtio-driver-error.js";
import { VIRTIO_F_RING_RESET, features, hasFeature } from "../features.js";
import { DmaAllocator } from "../memory/dma-allocator.js";
import { InMemoryGuestRam } from "../memory/in-memory-guest-ram.js";
import { packSplitRing } from "../queue/split-ring.js";
import type { VirtioDevice } from "../device.js";
import { settle } from "../test-utils/device-harness.js";
import { LoopbackTransport } from "./loopback-transport.js";
import { QueueResetError, StaleConfigGenerationError } from "./transport-errors.js";
import { untilTurns } from "../test-utils/until.js";

function loopback(device: VirtioDevice): LoopbackTransport {
  return new LoopbackTransport({
    ram: new InMemoryGuestRam(8 << 20),
    dma: new DmaAllocator(0x10000, (8 << 20) - 0x10000),
    device,
  });
}

/** A memory image whose writes can be held in flight until released. */
class GatedBackend extends MemoryBlockBackend {
  hold = false;
  readonly held: (() => void)[] = [];
  override async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    return super.write(offset, data);
  }
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }
}

const pattern = (n: number, salt: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 29 + salt) & 0xff);

describe("SET_CONFIG stale-generation check (reference §4.5, §4.11 config-generation race)", () => {
  it("a config write naming a stale generation is rejected with StaleConfigGenerationError and the config is unchanged", async () => {
    const out: number[] = [];
    const device = new ConsoleDevice({ onOutput: (b) => out.push(...b) });
    const t = loopback(device);
    const con = await ConsoleDriver.create(t);
    // The race: the driver reads the generation, then the device changes its config.
    const seen = await t.getConfigGeneration();
    device.resize(132, 43);
    const before = device.config.read(0, device.config.size);
    await assert.rejects(
      t.writeConfig(VIRTIO_CONSOLE_CFG_EMERG_WR, Uint8Array.of(0x41), seen),
      (e: unknown) =>
        e instanceof StaleConfigGenerationError &&
        e.generation === seen &&
        e.message.includes(`generation ${seen}`),
    );
    assert.deepEqual(out, [], "the refused write output nothing");
    assert.deepEqual(device.config.read(0, device.config.size), before, "config unchanged");
    assert.equal(t.controller.stats.staleConfigWrites, 1);
    assert.equal(t.violations.stats.total, 0, "a race is not a violation");
    // Re-read, write again at the current generation: accepted.
    await t.writeConfig(
      VIRTIO_CONSOLE_CFG_EMERG_WR,
      Uint8Array.of(0x42),
      await t.getConfigGeneration(),
    );
    // An unconditional write (what emergencyWrite does) ignores the generation.
    await con.emergencyWrite(0x43);
    assert.deepEqual(out, [0x42, 0x43]);
  });
});

describe("virtqueue reset (VirtIO 1.2 §2.6.1, VIRTIO_F_RING_RESET)", () => {
  it("every device offers VIRTIO_F_RING_RESET and the drivers negotiate it", async () => {
    const blk = await BlkDriver.create(
      loopback(new BlkDevice({ backend: new MemoryBlockBackend(64 * 512) })),
    );
    assert.ok(hasFeature(blk.core.features, VIRTIO_F_RING_RESET));
    const con = await ConsoleDriver.create(
      loopback(new ConsoleDevice({ onOutput: () => undefined })),
    );
    assert.ok(hasFeature(con.core.features, VIRTIO_F_RING_RESET));
  });

  it("a requestq reset with writes in flight answers only once they settled, rejects them with kind reset, and new writes after the re-enable are verified", async () => {
    const backend = new GatedBackend(256 * 512);
    const device = new BlkDevice({ backend, queueSize: 16 });
    const t = loopback(device);
    const blk = await BlkDriver.create(t, { queueSize: 16 });
    await blk.write(0, pattern(512, 1));
    backend.hold = true;
    const inflight = Promise.allSettled(
      [1, 2, 3, 4].map((s) => blk.write(s * 8, pattern(4096, s))),
    );
    await untilTurns("backend.held.length === 4", () => backend.held.length === 4);
    let resetDone = false;
    const reset = blk.resetQueue({ size: 8 }).then((n) => {
      resetDone = true;
      return n;
    });
    for (let i = 0; i < 20; i++) await settle();
    assert.equal(
      resetDone,
      false,
      "the reset waits while the device has requests of the queue in flight",
    );
    // A request issued during the reset waits for the re-enabled queue.
    const during = blk.write(100, pattern(512, 9));
    backend.release();
    assert.equal(await reset, 4, "the four in-flight writes were detached");
    const results = await inflight;
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok(r.reason instanceof VirtioDriverError && r.reason.kind === "reset");
    }
    await during;
    assert.equal(blk.queueSize, 8, "re-enabled with another size");
    assert.deepEqual(await blk.read(100, 1), pattern(512, 9));
    for (let s = 0; s < 20; s++) await blk.write(200 + s, pattern(512, 50 + s));
    for (let s = 0; s < 20; s++) assert.deepEqual(await blk.read(200 + s, 1), pattern(512, 50 + s));
    assert.deepEqual(await blk.read(0, 1), pattern(512, 1));
    assert.equal(blk.core.violations.stats.total, 0, "no late completion reached the new ring");
    assert.equal(t.violations.stats.total, 0);
    assert.equal(t.controller.stats.queueResets, 1);
    assert.equal(t.controller.stats.queueReenables, 1);
  });

  it("a reset of a queue index that does not exist is refused with an error naming the index", async () => {
    const t = loopback(new BlkDevice({ backend: new MemoryBlockBackend(64 * 512) }));
    const blk = await BlkDriver.create(t);
    await assert.rejects(
      t.resetQueue(5),
      (e: unknown) =>
        e instanceof QueueResetError &&
        e.refusal === "noSuchQueue" &&
        e.queue === 5 &&
        e.message.includes("queue 5"),
    );
    await assert.rejects(
      blk.core.resetQueue(5),
      (e: unknown) =>
        e instanceof VirtioDriverError &&
        e.kind === "queueUnavailable" &&
        e.message.includes("queue 5"),
    );
    assert.equal(t.violations.stats.queueResetInvalid, 1);
    await blk.write(0, pattern(512, 3));
    assert.deepEqual(await blk.read(0, 1), pattern(512, 3), "the device keeps working");
  });

  it("a reset when VIRTIO_F_RING_RESET was not negotiated is refused by the driver and by the device", async () => {
    const t = loopback(new BlkDevice({ backend: new MemoryBlockBackend(64 * 512) }));
    const blk = await BlkDriver.create(t, { withoutFeatures: features(VIRTIO_F_RING_RESET) });
    assert.equal(hasFeature(blk.core.features, VIRTIO_F_RING_RESET), false);
    await assert.rejects(
      blk.resetQueue(),
      (e: unknown) =>
        e instanceof VirtioDriverError &&
        e.kind === "missingFeature" &&
        e.message.includes("VIRTIO_F_RING_RESET"),
    );
    await assert.rejects(
      t.resetQueue(0),
      (e: unknown) => e instanceof QueueResetError && e.refusal === "notNegotiated",
    );
    assert.equal(t.controller.stats.queueResets, 0);
    await blk.write(8, pattern(1024, 4));
    assert.deepEqual(await blk.read(8, 2), pattern(1024, 4), "the queue was left working");
  });

  it("on a live device only a reset queue may be set up again, and only once", async () => {
    const t = loopback(new BlkDevice({ backend: new MemoryBlockBackend(64 * 512) }));
    const blk = await BlkDriver.create(t);
    const ring = (): ReturnType<typeof packSplitRing> =>
      packSplitRing(t.dma.alloc(packSplitRing(0, 8).bytes + 16, 16), 8);
    await assert.rejects(t.setupQueue(0, 8, ring()), /refused setup of queue 0/);
    assert.equal(t.violations.stats.queueSetupInvalid, 1, "a live queue cannot be set up again");
    await blk.core.resetQueue(0);
    assert.equal(t.controller.queueSetup(0), undefined);
    await t.setupQueue(0, 8, ring());
    assert.equal(t.controller.queueSetup(0)?.size, 8, "re-enabled while DRIVER_OK is set");
    await assert.rejects(t.setupQueue(0, 8, ring()), /refused setup of queue 0/);
    assert.equal(t.violations.stats.queueSetupInvalid, 2, "the re-enable window closed again");
  });
});
