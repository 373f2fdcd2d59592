// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-net device model (VirtIO 1.2 §5.1) driven through `MockSplitQueue`s: TX of header +
 * frame in any descriptor arrangement, RX into posted buffers with num_buffers = 1, the bounded
 * backlog, and hostile queue contents (writable TX, readable RX, short TX, small RX buffer).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { activateForTest } from "../../test-utils/device-harness.js";
import { MockSplitQueue } from "../../test-utils/mock-split-queue.js";
import {
  BROADCAST_MAC,
  ETHERTYPE_IPV4,
  buildEthernetFrame,
  formatMac,
  localMac,
} from "../../packets/ethernet.js";
import { L2Switch } from "./l2-switch.js";
import { NetDevice } from "./net-device.js";
import {
  VIRTIO_NET_CFG_MAC,
  VIRTIO_NET_CFG_STATUS,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_S_LINK_UP,
} from "../../spec/virtio-net.js";

function setup(sw = new L2Switch(), n = 1, rxBacklog = 4) {
  const device = new NetDevice({ switch: sw, mac: localMac(n), name: `eth${n}`, rxBacklog });
  const rx = new MockSplitQueue({ size: 8, index: 0 });
  // Each mock queue has its own memory; the device does not care where its queues live.
  const tx = new MockSplitQueue({ size: 8, index: 1, base: 0x8000 });
  const act = activateForTest(device, [rx.createDeviceQueue(), tx.createDeviceQueue()]);
  return { sw, device, rx, tx, act };
}

const hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
const frame = (dst: Uint8Array, src: Uint8Array, fill = 0xab): Uint8Array =>
  buildEthernetFrame(dst, src, ETHERTYPE_IPV4, new Uint8Array(46).fill(fill));

describe("virtio-net device model (VirtIO 1.2 §5.1)", () => {
  it("exposes its MAC and LINK_UP in config", () => {
    const { device } = setup();
    assert.equal(formatMac(device.config.read(VIRTIO_NET_CFG_MAC, 6)), formatMac(localMac(1)));
    assert.equal(device.config.getU16(VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
  });

  it("transmits header + frame split across descriptors to the switch and returns the buffer with len 0", () => {
    const sw = new L2Switch();
    const seen: Uint8Array[] = [];
    sw.attach({ name: "tap", deliver: (f) => seen.push(f) });
    const { device, tx } = setup(sw);
    const f = frame(BROADCAST_MAC, device.mac);
    const b = tx.addBuffer(
      [hdr.subarray(0, 5), Uint8Array.of(...hdr.subarray(5), ...f.subarray(0, 20)), f.subarray(20)],
      [],
    );
    device.queueNotify(1);
    assert.deepEqual(seen, [f]);
    assert.deepEqual(tx.usedElem(0), { id: b.head, len: 0 });
    assert.equal(device.stats.txFrames, 1);
  });

  it("receives into a posted buffer: 12-byte header with num_buffers 1, then the frame", () => {
    const sw = new L2Switch();
    const a = setup(sw, 1);
    const b = setup(sw, 2);
    const posted = b.rx.addBuffer([], [1530]);
    b.device.queueNotify(0);
    const f = frame(BROADCAST_MAC, a.device.mac);
    a.tx.addBuffer([hdr, f], []);
    a.device.queueNotify(1);
    const used = b.rx.usedElem(0);
    assert.deepEqual(used, { id: posted.head, len: VIRTIO_NET_HDR_SIZE + f.length });
    const w = posted.writable[0];
    assert.ok(w);
    assert.equal(b.rx.ram.readU16(w.addr + 10), 1, "num_buffers");
    assert.deepEqual(b.rx.ram.read(w.addr + VIRTIO_NET_HDR_SIZE, f.length), f);
    assert.deepEqual(b.rx.interrupts, [0]);
  });

  it("holds frames in a bounded backlog until the driver posts buffers, dropping beyond it", () => {
    const sw = new L2Switch();
    const a = setup(sw, 1);
    const b = setup(sw, 2, 2);
    for (let i = 0; i < 5; i++) {
      a.tx.addBuffer([hdr, frame(BROADCAST_MAC, a.device.mac, i)], []);
      a.device.queueNotify(1);
    }
    assert.equal(b.device.stats.rxDropped, 3);
    b.rx.addBuffer([], [1530]);
    b.rx.addBuffer([], [1530]);
    b.rx.addBuffer([], [1530]);
    b.device.queueNotify(0);
    assert.equal(b.rx.usedIdx(), 2, "the two backlogged frames were delivered");
  });

  it("a TX chain with a writable part is counted as readableRequired and completed with len 0", () => {
    const { device, tx, act } = setup();
    tx.addBuffer([hdr], [64]);
    device.queueNotify(1);
    assert.equal(act.violations.count("readableRequired"), 1);
    assert.equal(tx.usedElem(0).len, 0);
  });

  it("a TX chain shorter than the virtio-net header is counted as malformedRequest", () => {
    const { device, tx, act } = setup();
    tx.addBuffer([new Uint8Array(4)], []);
    device.queueNotify(1);
    assert.equal(act.violations.count("malformedRequest"), 1);
  });

  it("an RX buffer with a readable part is counted as writableRequired; one too small drops the frame", () => {
    const sw = new L2Switch();
    const a = setup(sw, 1);
    const b = setup(sw, 2);
    b.rx.addBuffer([new Uint8Array(4)], [1530]);
    b.rx.addBuffer([], [20]);
    b.rx.addBuffer([], [1530]);
    b.device.queueNotify(0);
    a.tx.addBuffer([hdr, frame(BROADCAST_MAC, a.device.mac)], []);
    a.device.queueNotify(1);
    assert.equal(b.act.violations.count("writableRequired"), 1);
    assert.equal(b.act.violations.count("malformedRequest"), 1);
    assert.deepEqual([b.rx.usedElem(0).len, b.rx.usedElem(1).len], [0, 0]);
    assert.equal(b.device.stats.rxDropped, 1);
  });
});
