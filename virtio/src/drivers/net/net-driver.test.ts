// SPDX-License-Identifier: Apache-2.0
/**
 * Two guests on one virtio-net switch over loopback transports — each with its own guest memory,
 * its own `NetDriver` and `MiniIpStack` — ARP for each other and ping (ICMP echo) both ways; a
 * third port sees the broadcasts but not the learned unicast.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ETHERTYPE_IPV4, buildEthernetFrame, formatMac, localMac } from "../../packets/ethernet.js";
import { L2Switch } from "../../devices/net/l2-switch.js";
import { NetDevice } from "../../devices/net/net-device.js";
import { DmaAllocator } from "../../memory/dma-allocator.js";
import { InMemoryGuestRam } from "../../memory/in-memory-guest-ram.js";
import { LoopbackTransport } from "../../transport/loopback-transport.js";
import { MiniIpStack, PingTimeoutError } from "./ip-stack.js";
import { NetDriver } from "./net-driver.js";

async function guest(sw: L2Switch, n: number, ip: string) {
  const device = new NetDevice({ switch: sw, mac: localMac(n), name: `eth${n}` });
  const transport = new LoopbackTransport({
    ram: new InMemoryGuestRam(4 << 20),
    dma: new DmaAllocator(0x10000, (4 << 20) - 0x10000),
    device,
  });
  const nic = await NetDriver.create(transport, { rxBuffers: 16 });
  return { device, transport, nic, stack: new MiniIpStack(nic, ip) };
}

describe("virtio-net: two guests on a switch over the loopback transport", () => {
  it("the driver reads the MAC the device was given", async () => {
    const g = await guest(new L2Switch(), 7, "10.0.0.7");
    assert.equal(formatMac(g.nic.mac), formatMac(localMac(7)));
  });

  it("guest A pings guest B: ARP resolves, the echo is answered, both ways", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1, "10.0.0.1");
    const b = await guest(sw, 2, "10.0.0.2");
    const r = await a.stack.ping("10.0.0.2");
    assert.equal(r.seq, 1);
    assert.equal(r.ttl, 64);
    assert.equal(a.stack.arpLookup("10.0.0.2"), formatMac(localMac(2)));
    assert.equal(
      b.stack.arpLookup("10.0.0.1"),
      formatMac(localMac(1)),
      "B learned A from the request",
    );
    assert.equal(b.stack.stats.echoRequestsAnswered, 1);
    const back = await b.stack.ping("10.0.0.1");
    assert.equal(back.seq, 1);
    for (let i = 0; i < 20; i++) await a.stack.ping("10.0.0.2");
    assert.equal(a.stack.stats.echoRepliesReceived, 21);
    assert.equal(a.transport.violations.stats.total + b.transport.violations.stats.total, 0);
    assert.equal(a.nic.core.violations.stats.total + b.nic.core.violations.stats.total, 0);
  });

  it("after learning, unicast reaches only its port while broadcasts are flooded", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1, "10.0.0.1");
    await guest(sw, 2, "10.0.0.2");
    const c = await guest(sw, 3, "10.0.0.3");
    const seenByC: Uint8Array[] = [];
    c.nic.onFrame((f) => seenByC.push(f));
    await a.stack.ping("10.0.0.2");
    const broadcasts = seenByC.length;
    assert.equal(broadcasts, 1, "C saw only A's ARP request");
    await a.stack.ping("10.0.0.2");
    assert.equal(seenByC.length, broadcasts, "no unicast leaked to C");
    assert.ok(sw.stats.forwarded >= 3);
  });

  it("a ping to an address nobody owns times out waiting for ARP", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1, "10.0.0.1");
    await guest(sw, 2, "10.0.0.2");
    await assert.rejects(a.stack.ping("10.0.0.99", { timeoutMs: 50 }), PingTimeoutError);
  });

  it("many frames in a burst all arrive (rx buffers are re-posted)", async () => {
    const sw = new L2Switch();
    const a = await guest(sw, 1, "10.0.0.1");
    const b = await guest(sw, 2, "10.0.0.2");
    let got = 0;
    b.nic.onFrame(() => got++);
    await a.stack.ping("10.0.0.2");
    got = 0;
    const sends = Array.from({ length: 100 }, (_, i) =>
      a.nic.send(
        buildEthernetFrame(b.nic.mac, a.nic.mac, ETHERTYPE_IPV4, new Uint8Array(64).fill(i)),
      ),
    );
    await Promise.all(sends);
    for (let i = 0; i < 10 && got < 100; i++) await new Promise((r) => setImmediate(r));
    assert.equal(got + b.device.stats.rxDropped, 100);
    assert.ok(got >= 16, `received ${got}`);
  });
});
