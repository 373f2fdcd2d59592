// SPDX-License-Identifier: Apache-2.0
/** The learning L2 switch behind virtio-net: learning, flooding, unicast, and hostile frames. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BROADCAST_MAC,
  ETHERTYPE_IPV4,
  buildEthernetFrame,
  localMac,
} from "../../packets/ethernet.js";
import { L2Switch } from "./l2-switch.js";

function ports(sw: L2Switch, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const got: Uint8Array[] = [];
    const id = sw.attach({ name: `p${i}`, deliver: (f) => got.push(f) });
    return { id, got, mac: localMac(i + 1) };
  });
}

const frame = (dst: Uint8Array, src: Uint8Array, n = 46): Uint8Array =>
  buildEthernetFrame(dst, src, ETHERTYPE_IPV4, new Uint8Array(n));

describe("learning L2 switch", () => {
  it("floods a frame to an unknown destination to every port but the ingress", () => {
    const sw = new L2Switch();
    const [a, b, c] = ports(sw, 3);
    assert.ok(a && b && c);
    sw.forward(a.id, frame(b.mac, a.mac));
    assert.equal(a.got.length, 0);
    assert.equal(b.got.length, 1);
    assert.equal(c.got.length, 1);
    assert.equal(sw.stats.flooded, 1);
  });

  it("learns source MACs and then forwards unicast to exactly one port", () => {
    const sw = new L2Switch();
    const [a, b, c] = ports(sw, 3);
    assert.ok(a && b && c);
    sw.forward(b.id, frame(BROADCAST_MAC, b.mac)); // b announces itself
    sw.forward(a.id, frame(b.mac, a.mac));
    assert.equal(b.got.length, 1);
    assert.equal(c.got.length, 1, "only the broadcast reached c");
    assert.equal(sw.lookup(a.mac), a.id);
    assert.equal(sw.stats.forwarded, 1);
  });

  it("always floods broadcast frames", () => {
    const sw = new L2Switch();
    const [a, b, c] = ports(sw, 3);
    assert.ok(a && b && c);
    sw.forward(a.id, frame(BROADCAST_MAC, a.mac));
    sw.forward(a.id, frame(BROADCAST_MAC, a.mac));
    assert.equal(b.got.length + c.got.length, 4);
  });

  it("drops a frame whose destination was learned on the ingress port (no hairpin)", () => {
    const sw = new L2Switch();
    const [a, b] = ports(sw, 2);
    assert.ok(a && b);
    const other = localMac(99);
    sw.forward(a.id, frame(BROADCAST_MAC, other));
    sw.forward(a.id, frame(other, a.mac));
    assert.equal(sw.stats.droppedHairpin, 1);
  });

  it("re-learns a MAC that moves to another port", () => {
    const sw = new L2Switch();
    const [a, b] = ports(sw, 2);
    assert.ok(a && b);
    const roaming = localMac(50);
    sw.forward(a.id, frame(BROADCAST_MAC, roaming));
    sw.forward(b.id, frame(BROADCAST_MAC, roaming));
    assert.equal(sw.lookup(roaming), b.id);
    assert.equal(sw.stats.moved, 1);
  });

  it("drops runts, oversize frames and multicast source MACs, and counts them", () => {
    const sw = new L2Switch();
    const [a, b] = ports(sw, 2);
    assert.ok(a && b);
    sw.forward(a.id, new Uint8Array(10));
    sw.forward(a.id, frame(b.mac, a.mac, 1600));
    sw.forward(a.id, frame(b.mac, BROADCAST_MAC));
    assert.equal(b.got.length, 0);
    assert.deepEqual(
      [sw.stats.droppedRunt, sw.stats.droppedOversize, sw.stats.droppedBadSource],
      [1, 1, 1],
    );
    assert.equal(sw.tableSize, 0, "nothing learned from dropped frames");
  });

  it("bounds the MAC table (oldest evicted) and ages entries out", () => {
    let now = 0;
    const sw = new L2Switch({ maxEntries: 4, ageMs: 1000, now: () => now });
    const [a] = ports(sw, 2);
    assert.ok(a);
    for (let i = 0; i < 100; i++) sw.forward(a.id, frame(BROADCAST_MAC, localMac(1000 + i)));
    assert.equal(sw.tableSize, 4);
    assert.equal(sw.stats.evicted, 96);
    assert.equal(sw.lookup(localMac(1099)), a.id);
    now = 2000;
    assert.equal(sw.lookup(localMac(1099)), undefined, "aged out");
  });

  it("detaching a port forgets its MACs", () => {
    const sw = new L2Switch();
    const [a, b] = ports(sw, 2);
    assert.ok(a && b);
    sw.forward(a.id, frame(BROADCAST_MAC, a.mac));
    sw.detach(a.id);
    assert.equal(sw.lookup(a.mac), undefined);
    sw.forward(b.id, frame(a.mac, b.mac));
    assert.equal(a.got.length, 0);
  });

  it("a port whose receive filter refuses a destination does not get the frame, and the refusal is counted", () => {
    const sw = new L2Switch();
    const [a] = ports(sw, 1);
    assert.ok(a);
    const got: Uint8Array[] = [];
    const mine = localMac(2);
    const picky = sw.attach({
      name: "picky",
      deliver: (f) => got.push(f),
      accepts: (dst) => dst.every((b, i) => b === mine[i]),
    });
    sw.forward(a.id, frame(localMac(3), a.mac)); // flooded, refused
    sw.forward(a.id, frame(BROADCAST_MAC, a.mac)); // flooded, refused by this filter too
    sw.forward(a.id, frame(mine, a.mac)); // accepted
    assert.equal(got.length, 1);
    assert.equal(sw.stats.filtered, 2);
    // Known unicast is filtered as well.
    sw.forward(picky, frame(a.mac, localMac(9)));
    sw.forward(a.id, frame(localMac(9), a.mac));
    assert.equal(got.length, 1);
    assert.equal(sw.stats.filtered, 3);
  });

  it("forget(port) drops the MACs learned on that port only", () => {
    const sw = new L2Switch();
    const [a, b] = ports(sw, 2);
    assert.ok(a && b);
    sw.forward(a.id, frame(b.mac, a.mac));
    sw.forward(b.id, frame(a.mac, b.mac));
    sw.forget(a.id);
    assert.equal(sw.lookup(a.mac), undefined);
    assert.equal(sw.lookup(b.mac), b.id);
  });
});
