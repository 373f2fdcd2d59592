// SPDX-License-Identifier: Apache-2.0
/**
 * `NetDriver` control commands and queue resets over the loopback transport: promiscuous and
 * all-multicast modes and the MAC change through the control queue (VirtIO 1.2 §5.1.6.5), the
 * `MiniIpStack` following a MAC change, the refusal without the feature, and virtqueue resets of
 * the receive and transmit queues (VIRTIO_F_RING_RESET) while the other queues keep working.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BROADCAST_MAC,
  ETHERTYPE_IPV4,
  buildEthernetFrame,
  formatMac,
  localMac,
} from "../../packets/ethernet.js";
import { L2Switch } from "../../devices/net/l2-switch.js";
import { NetDevice } from "../../devices/net/net-device.js";
import {
  VIRTIO_NET_CFG_MAC,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
} from "../../spec/virtio-net.js";
import { features } from "../../features.js";
import { DmaAllocator } from "../../memory/dma-allocator.js";
import { InMemoryGuestRam } from "../../memory/in-memory-guest-ram.js";
import { settle } from "../../test-utils/device-harness.js";
import { LoopbackTransport } from "../../transport/loopback-transport.js";
import { VirtioDriverError } from "../virtio-driver-error.js";
import { MiniIpStack } from "./ip-stack.js";
import { NetDriver, type NetDriverOptions } from "./net-driver.js";
import { untilTurns } from "../../test-utils/until.js";

async function guest(sw: L2Switch, n: number, options: NetDriverOptions = {}) {
  const device = new NetDevice({ switch: sw, mac: localMac(n), name: `eth${n}` });
  const transport = new LoopbackTransport({
    ram: new InMemoryGuestRam(4 << 20),
    dma: new DmaAllocator(0x10000, (4 << 20) - 0x10000),
    device,
  });
  const nic = await NetDriver.create(transport, { rxBuffers: 16, ...options });
  const frames: Uint8Array[] = [];
  nic.onFrame((f) => frames.push(f));
  return { device, transport, nic, frames };
}

const MCAST = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0x07);
const NEW_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const frame = (dst: Uint8Array, src: Uint8Array, fill = 0): Uint8Array =>
  buildEthernetFrame(dst, src, ETHERTYPE_IPV4, new Uint8Array(46).fill(fill));

describe("NetDriver control queue over the loopback transport", () => {
  it("the driver sets up the control queue and turns promiscuous mode off when it starts", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1);
    const b = await guest(sw, 2);
    assert.equal(b.device.filter.promiscuous, false);
    assert.equal(b.device.stats.controlCommands, 1);
    await a.nic.send(frame(localMac(9), localMac(1)));
    await a.nic.send(frame(localMac(2), localMac(1), 1));
    await untilTurns("b.frames.length === 1", () => b.frames.length === 1);
    await settle();
    assert.equal(b.frames.length, 1);
    assert.equal(b.frames[0]?.[14], 1, "only the frame for B's MAC arrived");
    assert.ok(sw.stats.filtered >= 1);
  });

  it("setPromiscuous(true) delivers other unicast; setAllMulticast(true) delivers multicast", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1);
    const b = await guest(sw, 2);
    await a.nic.send(frame(MCAST, localMac(1)));
    await settle();
    assert.equal(b.frames.length, 0, "multicast filtered by default");
    await b.nic.setAllMulticast(true);
    await a.nic.send(frame(MCAST, localMac(1)));
    await untilTurns("b.frames.length === 1", () => b.frames.length === 1);
    await b.nic.setPromiscuous(true);
    await a.nic.send(frame(localMac(9), localMac(1)));
    await untilTurns("b.frames.length === 2", () => b.frames.length === 2);
    await b.nic.setMacTable([], [MCAST]);
    await b.nic.setAllMulticast(false);
    await b.nic.setPromiscuous(false);
    await a.nic.send(frame(MCAST, localMac(1)));
    await untilTurns("b.frames.length === 3", () => b.frames.length === 3);
    assert.equal(b.device.stats.controlErrors, 0);
  });

  it("setMac changes the NIC's MAC (config mac too) and MiniIpStack follows: pings keep working", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1);
    const b = await guest(sw, 2);
    const ipa = new MiniIpStack(a.nic, "10.0.0.1");
    const ipb = new MiniIpStack(b.nic, "10.0.0.2");
    await ipa.ping("10.0.0.2");
    assert.equal(ipa.arpLookup("10.0.0.2"), formatMac(localMac(2)));
    await b.nic.setMac(NEW_MAC);
    assert.equal(formatMac(b.nic.mac), formatMac(NEW_MAC));
    assert.equal(formatMac(b.device.mac), formatMac(NEW_MAC));
    assert.equal(
      formatMac(await b.nic.core.readConfigStable(VIRTIO_NET_CFG_MAC, 6)),
      formatMac(NEW_MAC),
    );
    // The gratuitous ARP updates A's cache.
    await untilTurns(
      'ipa.arpLookup("10.0.0.2") === formatMac(NEW_MAC)',
      () => ipa.arpLookup("10.0.0.2") === formatMac(NEW_MAC),
    );
    await ipa.ping("10.0.0.2");
    await ipb.ping("10.0.0.1");
    assert.equal(ipb.stats.echoRequestsAnswered, 2);
    ipa.close();
    ipb.close();
  });

  it("setMac refuses a bad MAC before sending anything, naming it", async () => {
    const b = await guest(new L2Switch(), 2);
    await assert.rejects(b.nic.setMac(MCAST), /01:00:5e:00:00:07 is not a unicast MAC/);
    await assert.rejects(b.nic.setMac(new Uint8Array(5)), /6 bytes, got 5/);
    assert.equal(b.device.stats.controlCommands, 1, "only the start-up command reached the device");
  });

  it("without the control features the commands reject with missingFeature and nothing is sent", async () => {
    const b = await guest(new L2Switch(), 2, {
      withoutFeatures: features(
        VIRTIO_NET_F_CTRL_VQ,
        VIRTIO_NET_F_CTRL_RX,
        VIRTIO_NET_F_CTRL_MAC_ADDR,
      ),
    });
    const missing = (e: unknown): boolean =>
      e instanceof VirtioDriverError && e.kind === "missingFeature";
    await assert.rejects(b.nic.setPromiscuous(false), missing);
    await assert.rejects(b.nic.setAllMulticast(true), missing);
    await assert.rejects(b.nic.setMac(NEW_MAC), missing);
    assert.equal(b.device.stats.controlCommands, 0);
    assert.equal(b.device.filter.promiscuous, true, "the device stays in its reset state");
  });
});

describe("NetDriver virtqueue reset over the loopback transport (VIRTIO_F_RING_RESET)", () => {
  it("a receive queue reset reclaims the posted buffers, transmit keeps working meanwhile, and frames flow again after the re-enable", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1);
    const b = await guest(sw, 2);
    await a.nic.send(frame(localMac(2), localMac(1), 1));
    await untilTurns("b.frames.length === 1", () => b.frames.length === 1);
    const detached = await b.nic.resetQueue(0, { size: 32 });
    assert.equal(detached, 16, "every posted receive buffer was reclaimed");
    // While B's receive queue is reset, B still transmits, and frames for B are not delivered.
    await b.nic.send(frame(localMac(1), localMac(2), 2));
    await untilTurns("a.frames.length === 1", () => a.frames.length === 1);
    for (let i = 0; i < 5; i++) await a.nic.send(frame(localMac(2), localMac(1), 10 + i));
    await untilTurns("b.frames.length === 6", () => b.frames.length === 6);
    assert.deepEqual(
      b.frames.slice(1).map((f) => f[14]),
      [10, 11, 12, 13, 14],
    );
    assert.equal(b.transport.controller.stats.queueResets, 1);
    assert.equal(b.nic.core.violations.stats.total + b.transport.violations.stats.total, 0);
  });

  it("a transmit queue reset rejects the sends still outstanding with kind reset, and sending works afterwards", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1);
    const b = await guest(sw, 2);
    // Post sends without letting the device run (the kick is a microtask), then reset at once.
    const pending = [1, 2, 3].map((i) => a.nic.send(frame(localMac(2), localMac(1), i)));
    const reset = a.nic.resetQueue(1);
    const results = await Promise.allSettled(pending);
    const n = await reset;
    const rejected = results.filter((r) => r.status === "rejected");
    assert.equal(n, 3, "the device had not run: all three sends were still outstanding");
    assert.equal(rejected.length, n);
    for (const r of rejected)
      assert.ok(r.reason instanceof VirtioDriverError && r.reason.kind === "reset");
    await a.nic.send(frame(localMac(2), localMac(1), 42));
    await untilTurns("b.frames.some((f) => f[14] === 42)", () =>
      b.frames.some((f) => f[14] === 42),
    );
  });

  it("a broadcast reaches a port only while its receive queue is live", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1);
    const b = await guest(sw, 2);
    await b.nic.core.resetQueue(0);
    await a.nic.send(frame(BROADCAST_MAC, localMac(1)));
    await settle();
    assert.equal(b.frames.length, 0);
    assert.equal(b.device.stats.rxFrames, 0);
  });
});
