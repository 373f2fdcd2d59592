// SPDX-License-Identifier: Apache-2.0
/**
 * Device initialization over the loopback transport (VirtIO 1.2 §3.1.1, §2.1, §2.2; virtio-argo.md
 * §2.1–§2.3): the happy path, every feature-negotiation failure path (VERSION_1 missing on either
 * side, features not offered, FEATURES_OK re-read), the status state machine's invalid writes,
 * queue setup rules, kicks before DRIVER_OK, kick floods, config access rules, and
 * DEVICE_NEEDS_RESET reaching the driver as a failure.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRV,
  VIRTIO_CONFIG_S_DRIVER_OK as DOK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK as FOK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
} from "../device-status.js";
import { VirtioDeviceId } from "../device.js";
import { BlkDevice } from "../devices/blk/blk-device.js";
import { MemoryBlockBackend } from "../devices/blk/block-backend.js";
import { VIRTIO_BLK_F_RO } from "../spec/virtio-blk.js";
import { BlkDriver } from "../drivers/blk/blk-driver.js";
import { VirtioDriver } from "../drivers/virtio-driver.js";
import { VirtioDriverError } from "../drivers/virtio-driver-error.js";
import { VIRTIO_F_VERSION_1, featureBit, features } from "../features.js";
import { DmaAllocator } from "../memory/dma-allocator.js";
import { InMemoryGuestRam } from "../memory/in-memory-guest-ram.js";
import { packSplitRing, VIRTQ_AVAIL_IDX_OFFSET } from "../queue/split-ring.js";
import { settle } from "../test-utils/device-harness.js";
import { LoopbackTransport } from "./loopback-transport.js";

/** A blk device whose own feature rule refuses every selection. */
class PickyBlkDevice extends BlkDevice {
  validateFeatures(): string {
    return "no";
  }
}

function transport(
  options: { kickFloodLimit?: number; device?: BlkDevice } = {},
): LoopbackTransport {
  const ram = new InMemoryGuestRam(4 << 20);
  return new LoopbackTransport({
    ram,
    dma: new DmaAllocator(0x10000, (4 << 20) - 0x10000),
    device:
      options.device ?? new BlkDevice({ backend: new MemoryBlockBackend(64 * 512), name: "vda" }),
    ...(options.kickFloodLimit !== undefined ? { kickFloodLimit: options.kickFloodLimit } : {}),
  });
}

function isDriverError(kind: string) {
  return (e: unknown) => e instanceof VirtioDriverError && e.kind === kind;
}

describe("device initialization over the loopback transport (VirtIO 1.2 §3.1.1)", () => {
  it("the full sequence reaches ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK and activates the device", async () => {
    const t = transport();
    const blk = await BlkDriver.create(t);
    assert.equal(await t.getStatus(), ACK | DRV | FOK | DOK);
    assert.equal(t.controller.device.state.kind, "activated");
    assert.equal(blk.capacitySectors, 64);
    assert.equal(t.violations.stats.total, 0);
  });

  it("writing 0 resets: status reads 0, features are forgotten and the device is inactive", async () => {
    const t = transport();
    await BlkDriver.create(t);
    await t.setStatus(0);
    assert.equal(await t.getStatus(), 0);
    assert.equal(t.controller.driverFeatures, 0n);
    assert.equal(t.controller.device.state.kind, "inactive");
  });

  it("a driver that does not accept VERSION_1 finds FEATURES_OK clear on the re-read", async () => {
    const t = transport();
    await t.setStatus(ACK);
    await t.setStatus(ACK | DRV);
    await t.setDriverFeatures((await t.getDeviceFeatures()) & ~featureBit(VIRTIO_F_VERSION_1));
    await t.setStatus(ACK | DRV | FOK);
    assert.equal((await t.getStatus()) & FOK, 0);
    assert.equal(t.controller.stats.featureRejections, 1);
  });

  it("a driver accepting a feature the device did not offer finds FEATURES_OK clear", async () => {
    const t = transport();
    await t.setStatus(ACK);
    await t.setStatus(ACK | DRV);
    await t.setDriverFeatures((await t.getDeviceFeatures()) | featureBit(VIRTIO_BLK_F_RO));
    await t.setStatus(ACK | DRV | FOK);
    assert.equal((await t.getStatus()) & FOK, 0);
  });

  it("the driver sets FAILED and throws featuresRejected when the device refuses its subset", async () => {
    const t = transport({ device: new PickyBlkDevice({ backend: new MemoryBlockBackend(512) }) });
    const core = new VirtioDriver(t);
    await assert.rejects(
      core.negotiate(VirtioDeviceId.block, features(VIRTIO_F_VERSION_1)),
      isDriverError("featuresRejected"),
    );
    assert.equal(await t.getStatus(), ACK | DRV | VIRTIO_CONFIG_S_FAILED);
  });

  it("the driver refuses a device without VERSION_1 (noVersion1) and sets FAILED", async () => {
    const t = transport();
    Object.defineProperty(t.controller.device, "availableFeatures", { value: 0n });
    const core = new VirtioDriver(t);
    await assert.rejects(
      core.negotiate(VirtioDeviceId.block, features(VIRTIO_F_VERSION_1)),
      isDriverError("noVersion1"),
    );
    assert.equal((await t.getStatus()) & VIRTIO_CONFIG_S_FAILED, VIRTIO_CONFIG_S_FAILED);
  });

  it("the driver refuses a device lacking a required feature (missingFeature)", async () => {
    const t = transport();
    const core = new VirtioDriver(t);
    await assert.rejects(
      core.negotiate(
        VirtioDeviceId.block,
        features(VIRTIO_F_VERSION_1),
        featureBit(VIRTIO_BLK_F_RO),
      ),
      isDriverError("missingFeature"),
    );
  });

  it("a driver of the wrong device type is refused (wrongDeviceType)", async () => {
    const t = transport();
    await assert.rejects(
      new VirtioDriver(t).negotiate(VirtioDeviceId.net, 0n),
      isDriverError("wrongDeviceType"),
    );
  });

  it("skipping a step (0 -> DRIVER_OK) is an invalid transition: ignored and counted", async () => {
    const t = transport();
    await t.setStatus(ACK | DRV | FOK | DOK);
    assert.equal(await t.getStatus(), 0);
    assert.equal(t.violations.count("invalidStatusTransition"), 1);
  });

  it("clearing a status bit is an invalid transition: ignored and counted", async () => {
    const t = transport();
    await t.setStatus(ACK);
    await t.setStatus(ACK | DRV);
    await t.setStatus(ACK);
    assert.equal(await t.getStatus(), ACK | DRV);
    assert.equal(t.violations.count("invalidStatusTransition"), 1);
  });

  it("the driver cannot set DEVICE_NEEDS_RESET: the bit it writes is ignored", async () => {
    const t = transport();
    await t.setStatus(ACK | VIRTIO_CONFIG_S_NEEDS_RESET);
    assert.equal(await t.getStatus(), ACK);
  });

  it("features written after FEATURES_OK are ignored and counted", async () => {
    const t = transport();
    await BlkDriver.create(t);
    const before = t.controller.driverFeatures;
    await t.setDriverFeatures(0n);
    assert.equal(t.controller.driverFeatures, before);
    assert.equal(t.violations.count("featuresAfterFeaturesOk"), 1);
  });

  it("queue setup before FEATURES_OK, of a missing queue, or with a bad size is refused", async () => {
    const t = transport();
    const addrs = packSplitRing(0x20000, 8);
    await assert.rejects(t.setupQueue(0, 8, addrs));
    await t.setStatus(ACK);
    await t.setStatus(ACK | DRV);
    await t.setDriverFeatures(features(VIRTIO_F_VERSION_1));
    await t.setStatus(ACK | DRV | FOK);
    await assert.rejects(t.setupQueue(1, 8, addrs), "no queue 1");
    await assert.rejects(t.setupQueue(0, 6, addrs), "not a power of two");
    await assert.rejects(t.setupQueue(0, 512, addrs), "above QueueNumMax");
    await t.setupQueue(0, 8, addrs);
    assert.equal(t.violations.count("queueSetupInvalid"), 4);
  });

  it("a queue whose rings lie outside guest memory makes DRIVER_OK fail into DEVICE_NEEDS_RESET", async () => {
    const t = transport();
    await t.setStatus(ACK);
    await t.setStatus(ACK | DRV);
    await t.setDriverFeatures(features(VIRTIO_F_VERSION_1));
    await t.setStatus(ACK | DRV | FOK);
    await t.setupQueue(0, 8, { descAddr: (4 << 20) - 16, availAddr: 0x20000, usedAddr: 0x21000 });
    await t.setStatus(ACK | DRV | FOK | DOK);
    assert.equal((await t.getStatus()) & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
    assert.equal(t.controller.device.state.kind, "inactive");
  });

  it("a kick before DRIVER_OK is ignored and counted as notifyBeforeDriverOk", async () => {
    const t = transport();
    await t.notify(0);
    await settle();
    assert.equal(t.violations.count("notifyBeforeDriverOk"), 1);
  });

  it("a kick flood is coalesced into few device runs and counted once as notificationFlood", async () => {
    const t = transport({ kickFloodLimit: 100 });
    await BlkDriver.create(t);
    for (let i = 0; i < 10_000; i++) void t.notify(0);
    await settle();
    assert.ok(t.controller.stats.kicks >= 10_000);
    assert.equal(t.violations.count("notificationFlood"), 1);
  });

  it("config reads out of range are rejected and counted; config writes the device did not allow are denied", async () => {
    const t = transport();
    await assert.rejects(t.readConfig(70, 8));
    await assert.rejects(t.writeConfig(0, new Uint8Array(8)));
    assert.equal(t.violations.count("configAccessOutOfRange"), 1);
    assert.equal(t.violations.count("configWriteDenied"), 1);
    assert.equal((await t.readConfig(0, 8)).length, 8, "config is readable before FEATURES_OK");
  });

  it("a hostile driver's avail.idx jump puts the device in DEVICE_NEEDS_RESET and the driver fails", async () => {
    const t = transport();
    const blk = await BlkDriver.create(t);
    const setup = t.controller.queueSetup(0);
    assert.ok(setup);
    t.ram.writeU16(setup.binding.availAddr + VIRTQ_AVAIL_IDX_OFFSET, 1000);
    await t.notify(0);
    for (let i = 0; i < 5; i++) await settle();
    assert.equal(t.violations.count("invalidAvailIdx"), 1);
    assert.equal(blk.core.state.kind, "failed");
    assert.equal(await t.getStatus(), 0, "the failed driver reset the device");
    await assert.rejects(blk.read(0, 1), isDriverError("deviceFailed"));
  });
});
