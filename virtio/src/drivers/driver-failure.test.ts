// SPDX-License-Identifier: Apache-2.0
/**
 * What a driver owes its callers when its device fails or goes away (docs/virtio-argo.md
 * "Recovery"): every request the device holds and every waiter rejects with the driver's
 * error — none waits forever — and a device reset under a ready driver is noticed by the
 * liveness check. Over the loopback transport, with kicks withheld so requests stay in flight.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { VirtioDevice } from "../device.js";
import { BlkDevice } from "../devices/blk/blk-device.js";
import { MemoryBlockBackend } from "../devices/blk/block-backend.js";
import { ConsoleDevice } from "../devices/console/console-device.js";
import { BROADCAST_MAC, buildEthernetFrame, localMac } from "../packets/ethernet.js";
import { L2Switch } from "../devices/net/l2-switch.js";
import { NetDevice } from "../devices/net/net-device.js";
import { DmaAllocator } from "../memory/dma-allocator.js";
import { InMemoryGuestRam } from "../memory/in-memory-guest-ram.js";
import { LoopbackTransport } from "../transport/loopback-transport.js";
import { BlkDriver } from "./blk/blk-driver.js";
import { ConsoleDriver } from "./console/console-driver.js";
import { NetDriver } from "./net/net-driver.js";
import type { DriverState } from "./virtio-driver.js";
import { VirtioDriverError, VirtioDriverErrorKind } from "./virtio-driver-error.js";

/** A loopback transport whose kicks can be withheld: the device never sees new buffers. */
class HoldingTransport extends LoopbackTransport {
  hold = false;
  override notify(index: number): Promise<void> {
    return this.hold ? Promise.resolve() : super.notify(index);
  }
}

function transport(device: VirtioDevice): HoldingTransport {
  return new HoldingTransport({
    ram: new InMemoryGuestRam(4 << 20),
    dma: new DmaAllocator(0x10000, (4 << 20) - 0x10000),
    device,
  });
}

/** Read through a call, so one assertion does not narrow the next read away. */
const stateOf = (d: ConsoleDriver): DriverState => d.core.state;

const gone = (): VirtioDriverError =>
  new VirtioDriverError(VirtioDriverErrorKind.deviceFailed, "device gone (test)");

describe("a failed driver settles everything it holds", () => {
  it("console writes the device holds reject when the driver fails, and so does a waiting read", async () => {
    const t = transport(new ConsoleDevice({ onOutput: () => undefined }));
    const con = await ConsoleDriver.create(t);
    await con.write("live\n");
    t.hold = true;
    const held = [con.write("one\n"), con.write("two\n")];
    const reading = con.read();
    await con.core.fail(gone());
    for (const w of held) await assert.rejects(w, /device gone/);
    await assert.rejects(reading, /device gone/);
    await assert.rejects(con.read(), /device gone/, "a read after the failure rejects at once");
    await assert.rejects(con.write("three\n"), /device gone/);
  });

  it("console writes the device holds reject when the driver is closed", async () => {
    const t = transport(new ConsoleDevice({ onOutput: () => undefined }));
    const con = await ConsoleDriver.create(t);
    t.hold = true;
    const held = con.write("held\n");
    await con.close();
    await assert.rejects(held, /driver closed/);
  });

  it("net sends the device holds reject when the driver fails", async () => {
    const t = transport(new NetDevice({ switch: new L2Switch(), mac: localMac(1), name: "eth1" }));
    const nic = await NetDriver.create(t, { rxBuffers: 4 });
    const frame = buildEthernetFrame(BROADCAST_MAC, nic.mac, 0x88b5, new Uint8Array(46));
    await nic.send(frame);
    t.hold = true;
    const held = [nic.send(frame), nic.send(frame)];
    await nic.core.fail(gone());
    for (const s of held) await assert.rejects(s, /device gone/);
    await assert.rejects(nic.send(frame), /device gone/);
  });

  it("blk requests the device holds reject when the driver fails", async () => {
    const t = transport(new BlkDevice({ backend: new MemoryBlockBackend(64 * 512), name: "vda" }));
    const blk = await BlkDriver.create(t);
    t.hold = true;
    const held = blk.write(0, new Uint8Array(512));
    await blk.core.fail(gone());
    await assert.rejects(held, /device gone/);
  });
});

describe("liveness check", () => {
  it("a device reset under a ready driver (DRIVER_OK lost) fails the driver", async () => {
    const t = transport(new ConsoleDevice({ onOutput: () => undefined }));
    const con = await ConsoleDriver.create(t);
    assert.equal(await con.core.checkDevice(), true, "a live device passes");
    assert.equal(stateOf(con).kind, "ready");
    await t.setStatus(0); // what a back end that restarted answers
    assert.equal(await con.core.checkDevice(), false);
    const st = stateOf(con);
    assert.ok(st.kind === "failed");
    assert.match(st.error.message, /lost DRIVER_OK/);
    await assert.rejects(con.write("x"), /lost DRIVER_OK/);
  });
});
