// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-net control queue (VirtIO 1.2 §5.1.6.5; reference §4.10) driven through
 * `MockSplitQueue`s: RX PROMISC / ALLMULTI, MAC ADDR_SET and TABLE_SET acked OK, the receive
 * filter the L2 switch then applies (own MAC, broadcast, multicast with all-multicast or in the
 * table, everything when promiscuous), the reset state, feature rules, and malformed commands
 * (acked ERR and counted, never a crash — fuzzed with a printed seed).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { VIRTQ_DESC_F_WRITE } from "../../queue/split-ring.js";
import { activateForTest } from "../../test-utils/device-harness.js";
import { propertySeed } from "../../test-utils/seed.js";
import { MockSplitQueue } from "../../test-utils/mock-split-queue.js";
import {
  BROADCAST_MAC,
  ETHERTYPE_IPV4,
  buildEthernetFrame,
  formatMac,
  localMac,
} from "../../packets/ethernet.js";
import { L2Switch } from "./l2-switch.js";
import { NetDevice, parseMacTables } from "./net-device.js";
import { MAC_TABLE_ENTRIES, RxFilter } from "./rx-filter.js";
import {
  VIRTIO_NET_CFG_MAC,
  VIRTIO_NET_CTRL_MAC,
  VIRTIO_NET_CTRL_MAC_ADDR_SET,
  VIRTIO_NET_CTRL_MAC_TABLE_SET,
  VIRTIO_NET_CTRL_RX,
  VIRTIO_NET_CTRL_RX_ALLMULTI,
  VIRTIO_NET_CTRL_RX_PROMISC,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_OK,
} from "../../spec/virtio-net.js";
import { featureBit } from "../../features.js";

const MCAST = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0x01);
const OTHER_MCAST = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0x02);
const NEW_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc);

function port(sw: L2Switch, n: number, negotiated?: bigint) {
  const device = new NetDevice({ switch: sw, mac: localMac(n), name: `eth${n}` });
  const rx = new MockSplitQueue({ size: 16, index: 0 });
  const tx = new MockSplitQueue({ size: 8, index: 1, base: 0x8000 });
  const ctrl = new MockSplitQueue({ size: 8, index: 2, base: 0x4000 });
  const act = activateForTest(
    device,
    [rx.createDeviceQueue(), tx.createDeviceQueue(), ctrl.createDeviceQueue()],
    negotiated ?? device.availableFeatures,
  );
  for (let i = 0; i < 8; i++) rx.addBuffer([], [1530]);
  device.queueNotify(0);
  /** Sends one command; returns the ack byte (or undefined if none was written). */
  const command = (cls: number, cmd: number, data: Uint8Array = new Uint8Array(0)): number => {
    const b = ctrl.addBuffer([Uint8Array.of(cls, cmd, ...data)], [1]);
    const before = ctrl.usedIdx();
    device.queueNotify(2);
    assert.equal(ctrl.usedIdx(), (before + 1) & 0xffff, "the command was completed");
    const w = b.writable[0];
    assert.ok(w);
    return ctrl.ram.readU8(w.addr);
  };
  return { device, rx, tx, ctrl, act, command };
}

const frame = (dst: Uint8Array, src: Uint8Array): Uint8Array =>
  buildEthernetFrame(dst, src, ETHERTYPE_IPV4, new Uint8Array(46).fill(7));

/** Frames received by `p` (used.idx of its receive queue). */
const received = (p: ReturnType<typeof port>): number => p.rx.usedIdx();

function macTable(uni: readonly Uint8Array[], multi: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(8 + 6 * (uni.length + multi.length));
  const v = new DataView(out.buffer);
  let at = 0;
  for (const t of [uni, multi]) {
    v.setUint32(at, t.length, true);
    at += 4;
    for (const m of t) {
      out.set(m, at);
      at += 6;
    }
  }
  return out;
}

describe("virtio-net control queue (VirtIO 1.2 §5.1.6.5)", () => {
  it("offers CTRL_VQ, CTRL_RX and CTRL_MAC_ADDR and has three queues (controlq = 2)", () => {
    const { device } = port(new L2Switch(), 1);
    for (const bit of [VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_MAC_ADDR])
      assert.notEqual(device.availableFeatures & featureBit(bit), 0n, `feature ${bit}`);
    assert.equal(device.queueMaxSizes.length, 3);
  });

  it("CTRL_RX or CTRL_MAC_ADDR without CTRL_VQ is refused at FEATURES_OK", () => {
    const { device } = port(new L2Switch(), 1);
    const f = device.availableFeatures & ~featureBit(VIRTIO_NET_F_CTRL_VQ);
    assert.match(device.validateFeatures(f) ?? "", /without VIRTIO_NET_F_CTRL_VQ/);
    assert.equal(device.validateFeatures(device.availableFeatures), undefined);
  });

  it("after reset the port is promiscuous: it receives unicast for other MACs (QEMU's compatibility default)", () => {
    const sw = new L2Switch();
    const a = port(sw, 1);
    const b = port(sw, 2);
    sw.forward(a.device.port, frame(localMac(9), a.device.mac));
    assert.equal(received(b), 1);
  });

  it("with promiscuous mode off a port receives its own MAC and broadcast, not other unicast nor multicast", () => {
    const sw = new L2Switch();
    const a = port(sw, 1);
    const b = port(sw, 2);
    assert.equal(
      b.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, Uint8Array.of(0)),
      VIRTIO_NET_OK,
    );
    sw.forward(a.device.port, frame(localMac(9), a.device.mac));
    sw.forward(a.device.port, frame(MCAST, a.device.mac));
    assert.equal(received(b), 0, "other unicast and multicast filtered");
    sw.forward(a.device.port, frame(BROADCAST_MAC, a.device.mac));
    sw.forward(a.device.port, frame(localMac(2), a.device.mac));
    assert.equal(received(b), 2, "broadcast and its own MAC delivered");
    assert.equal(sw.stats.filtered, 2);
  });

  it("ALLMULTI on delivers every multicast; off, only multicast in the MAC table (TABLE_SET)", () => {
    const sw = new L2Switch();
    const a = port(sw, 1);
    const b = port(sw, 2);
    b.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, Uint8Array.of(0));
    assert.equal(
      b.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, Uint8Array.of(1)),
      VIRTIO_NET_OK,
    );
    sw.forward(a.device.port, frame(OTHER_MCAST, a.device.mac));
    assert.equal(received(b), 1);
    b.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, Uint8Array.of(0));
    assert.equal(
      b.command(
        VIRTIO_NET_CTRL_MAC,
        VIRTIO_NET_CTRL_MAC_TABLE_SET,
        macTable([localMac(7)], [MCAST]),
      ),
      VIRTIO_NET_OK,
    );
    sw.forward(a.device.port, frame(OTHER_MCAST, a.device.mac));
    assert.equal(received(b), 1, "multicast outside the table filtered");
    sw.forward(a.device.port, frame(MCAST, a.device.mac));
    sw.forward(a.device.port, frame(localMac(7), a.device.mac));
    assert.equal(received(b), 3, "table multicast and table unicast delivered");
  });

  it("MAC ADDR_SET changes the port's MAC in the filter and in config mac (generation bumped, config interrupt)", () => {
    const sw = new L2Switch();
    const a = port(sw, 1);
    const b = port(sw, 2);
    b.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, Uint8Array.of(0));
    const gen = b.device.config.generation;
    let changes = 0;
    b.device.config.onChange(() => changes++);
    assert.equal(
      b.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, NEW_MAC),
      VIRTIO_NET_OK,
    );
    assert.equal(formatMac(b.device.mac), formatMac(NEW_MAC));
    assert.equal(formatMac(b.device.config.read(VIRTIO_NET_CFG_MAC, 6)), formatMac(NEW_MAC));
    assert.equal(b.device.config.generation, gen + 1);
    assert.equal(changes, 1, "a config change the transport turns into a config interrupt");
    sw.forward(a.device.port, frame(localMac(2), a.device.mac));
    assert.equal(received(b), 0, "the old MAC is filtered");
    sw.forward(a.device.port, frame(NEW_MAC, a.device.mac));
    assert.equal(received(b), 1, "the new MAC is delivered");
  });

  it("a device reset restores the configured MAC and the promiscuous reset state", async () => {
    const b = port(new L2Switch(), 2);
    b.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, Uint8Array.of(0));
    b.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, NEW_MAC);
    await b.device.reset();
    assert.equal(formatMac(b.device.mac), formatMac(localMac(2)));
    assert.equal(formatMac(b.device.config.read(VIRTIO_NET_CFG_MAC, 6)), formatMac(localMac(2)));
    assert.equal(b.device.filter.promiscuous, true);
    assert.equal(b.device.filter.allMulticast, false);
  });

  it("malformed or unsupported commands are acked ERR, counted as controlCommandInvalid, and change nothing", () => {
    const b = port(new L2Switch(), 2);
    const cases: [string, number, number, Uint8Array][] = [
      ["PROMISC without data", VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, new Uint8Array(0)],
      ["PROMISC value 2", VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, Uint8Array.of(2)],
      ["ALLUNI (needs CTRL_RX_EXTRA)", VIRTIO_NET_CTRL_RX, 2, Uint8Array.of(1)],
      [
        "ADDR_SET of 5 bytes",
        VIRTIO_NET_CTRL_MAC,
        VIRTIO_NET_CTRL_MAC_ADDR_SET,
        NEW_MAC.subarray(0, 5),
      ],
      ["ADDR_SET of a multicast MAC", VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, MCAST],
      ["ADDR_SET of zeros", VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, new Uint8Array(6)],
      [
        "TABLE_SET overclaiming entries",
        VIRTIO_NET_CTRL_MAC,
        VIRTIO_NET_CTRL_MAC_TABLE_SET,
        Uint8Array.of(9, 0, 0, 0),
      ],
      ["unknown MAC command", VIRTIO_NET_CTRL_MAC, 7, new Uint8Array(0)],
      ["VLAN class (CTRL_VLAN not offered)", 2, 0, Uint8Array.of(1, 0)],
    ];
    for (const [what, cls, cmd, data] of cases)
      assert.equal(b.command(cls, cmd, data), VIRTIO_NET_ERR, what);
    // A header shorter than class + command.
    const short = b.ctrl.addBuffer([Uint8Array.of(0)], [1]);
    b.device.queueNotify(2);
    assert.equal(b.ctrl.ram.readU8(short.writable[0]?.addr ?? 0), VIRTIO_NET_ERR);
    assert.equal(b.act.violations.stats.controlCommandInvalid, cases.length + 1);
    assert.equal(b.device.stats.controlErrors, cases.length + 1);
    assert.equal(formatMac(b.device.mac), formatMac(localMac(2)), "MAC unchanged");
    assert.equal(b.device.filter.promiscuous, true, "mode unchanged");
  });

  it("a command without a writable ack byte is counted as writableRequired and returned with len 0", () => {
    const b = port(new L2Switch(), 2);
    const head = b.ctrl.buildDescChain([
      { addr: b.ctrl.allocBuffer(3, Uint8Array.of(0, 0, 0)), len: 3 },
    ]);
    b.ctrl.addAvail(head);
    b.device.queueNotify(2);
    assert.deepEqual(b.ctrl.usedElem(0), { id: head, len: 0 });
    assert.equal(b.act.violations.stats.writableRequired, 1);
    assert.equal(b.device.filter.promiscuous, true, "not carried out");
  });

  it("commands whose feature was not negotiated are acked ERR (CTRL_VQ alone)", () => {
    const sw = new L2Switch();
    const probe = new NetDevice({ switch: sw, mac: localMac(5) });
    const only =
      probe.availableFeatures &
      ~featureBit(VIRTIO_NET_F_CTRL_RX) &
      ~featureBit(VIRTIO_NET_F_CTRL_MAC_ADDR);
    probe.detach();
    const b = port(sw, 2, only);
    assert.equal(
      b.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, Uint8Array.of(0)),
      VIRTIO_NET_ERR,
    );
    assert.equal(
      b.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, NEW_MAC),
      VIRTIO_NET_ERR,
    );
    assert.equal(b.device.filter.promiscuous, true);
  });

  it("fuzz: random control commands never throw, always complete with an ack of OK or ERR", () => {
    const seed = propertySeed("virtio-net control queue fuzz");
    const b = port(new L2Switch(), 3);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 }),
        (body, writable) => {
          const descs = [];
          if (body.length > 0)
            descs.push({ addr: b.ctrl.allocBuffer(body.length, body), len: body.length });
          for (let i = 0; i < writable; i++)
            descs.push({ addr: b.ctrl.allocBuffer(1), len: 1, flags: VIRTQ_DESC_F_WRITE });
          if (descs.length === 0) return;
          const before = b.ctrl.usedIdx();
          b.ctrl.addAvail(b.ctrl.buildDescChain(descs));
          b.device.queueNotify(2);
          assert.equal(b.ctrl.usedIdx(), (before + 1) & 0xffff);
          const used = b.ctrl.usedElem(before);
          assert.equal(used.len, writable > 0 ? 1 : 0);
        },
      ),
      { seed, numRuns: 300 },
    );
    assert.equal(b.ctrl.broken.length, 0);
  });
});

describe("receive filter and MAC tables", () => {
  it("parseMacTables reads two counted tables and refuses counts beyond the bytes and trailing bytes", () => {
    const ok = parseMacTables(macTable([localMac(1)], [MCAST, OTHER_MCAST]));
    assert.ok(Array.isArray(ok));
    assert.equal(ok[0].length, 1);
    assert.equal(ok[1].length, 2);
    assert.match(String(parseMacTables(Uint8Array.of(0xff, 0xff, 0xff, 0xff))), /do not fit/);
    assert.match(
      String(parseMacTables(Uint8Array.of(0, 0, 0, 0))),
      /multicast table: no entry count/,
    );
    assert.match(String(parseMacTables(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1))), /trailing/);
  });

  it("a table above MAC_TABLE_ENTRIES accepts that whole class (bounded memory, QEMU overflow)", () => {
    const f = new RxFilter(localMac(1));
    f.promiscuous = false;
    const many = Array.from({ length: MAC_TABLE_ENTRIES + 1 }, (_, i) => localMac(100 + i));
    f.setTables(many, []);
    assert.equal(f.accepts(localMac(9999)), true, "unicast overflow accepts every unicast");
    assert.equal(f.accepts(MCAST), false, "multicast still filtered");
  });
});
