// SPDX-License-Identifier: Apache-2.0
/**
 * The split-ring layout against VirtIO 1.2 §2.7 (virtio-argo.md §2.6): sizes, field offsets and
 * alignment of the descriptor table, available ring and used ring, byte by byte.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InMemoryGuestRam } from "../memory/in-memory-guest-ram.js";
import { writeDescriptor } from "./descriptor-chain.js";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_AVAIL_FLAGS_OFFSET,
  VIRTQ_AVAIL_IDX_OFFSET,
  VIRTQ_AVAIL_RING_OFFSET,
  VIRTQ_DESC_ADDR_OFFSET,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_FLAGS_OFFSET,
  VIRTQ_DESC_LEN_OFFSET,
  VIRTQ_DESC_NEXT_OFFSET,
  VIRTQ_DESC_SIZE,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED_ELEM_SIZE,
  VIRTQ_USED_F_NO_NOTIFY,
  VIRTQ_USED_FLAGS_OFFSET,
  VIRTQ_USED_IDX_OFFSET,
  VIRTQ_USED_RING_OFFSET,
  availEventOffset,
  availRingEntryOffset,
  splitRingFields,
  availRingSize,
  descTableSize,
  isValidQueueSize,
  packSplitRing,
  usedEventOffset,
  usedRingEntryOffset,
  usedRingSize,
} from "./split-ring.js";

describe("split ring layout (VirtIO 1.2 §2.7)", () => {
  it("flag values are the spec's: NEXT 1, WRITE 2, INDIRECT 4, NO_INTERRUPT 1, NO_NOTIFY 1", () => {
    assert.equal(VIRTQ_DESC_F_NEXT, 1);
    assert.equal(VIRTQ_DESC_F_WRITE, 2);
    assert.equal(VIRTQ_DESC_F_INDIRECT, 4);
    assert.equal(VIRTQ_AVAIL_F_NO_INTERRUPT, 1);
    assert.equal(VIRTQ_USED_F_NO_NOTIFY, 1);
  });

  it("struct virtq_desc is 16 bytes: le64 addr @0, le32 len @8, le16 flags @12, le16 next @14", () => {
    assert.equal(VIRTQ_DESC_SIZE, 16);
    assert.deepEqual(
      [
        VIRTQ_DESC_ADDR_OFFSET,
        VIRTQ_DESC_LEN_OFFSET,
        VIRTQ_DESC_FLAGS_OFFSET,
        VIRTQ_DESC_NEXT_OFFSET,
      ],
      [0, 8, 12, 14],
    );
    const ram = new InMemoryGuestRam(64);
    writeDescriptor(ram, 16, 1, {
      addr: 0x0001020304050607,
      len: 0x11223344,
      flags: 0x0506,
      next: 0x0708,
    });
    assert.deepEqual(
      [...ram.read(32, 16)],
      [
        0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x44, 0x33, 0x22, 0x11, 0x06, 0x05, 0x08,
        0x07,
      ],
    );
  });

  it("the descriptor table is 16·qsz bytes", () => {
    for (const q of [1, 2, 256, VIRTQ_MAX_SIZE]) assert.equal(descTableSize(q), 16 * q);
  });

  it("the available ring is flags @0, idx @2, ring[qsz] @4, used_event @4+2·qsz: 6+2·qsz bytes", () => {
    assert.equal(VIRTQ_AVAIL_FLAGS_OFFSET, 0);
    assert.equal(VIRTQ_AVAIL_IDX_OFFSET, 2);
    assert.equal(VIRTQ_AVAIL_RING_OFFSET, 4);
    assert.equal(availRingEntryOffset(3), 10);
    assert.equal(usedEventOffset(256), 4 + 512);
    assert.equal(availRingSize(256), 6 + 512);
  });

  it("the used ring is flags @0, idx @2, {le32 id, le32 len}[qsz] @4, avail_event @4+8·qsz: 6+8·qsz bytes", () => {
    assert.equal(VIRTQ_USED_FLAGS_OFFSET, 0);
    assert.equal(VIRTQ_USED_IDX_OFFSET, 2);
    assert.equal(VIRTQ_USED_RING_OFFSET, 4);
    assert.equal(VIRTQ_USED_ELEM_SIZE, 8);
    assert.equal(usedRingEntryOffset(3), 28);
    assert.equal(availEventOffset(256), 4 + 8 * 256);
    assert.equal(usedRingSize(256), 6 + 8 * 256);
  });

  it("queue size is a power of two from 1 to 32768", () => {
    for (const q of [1, 2, 4, 1024, 32768]) assert.ok(isValidQueueSize(q), `${q}`);
    for (const q of [0, 3, 6, 100, 65536, -4, 1.5]) assert.ok(!isValidQueueSize(q), `${q}`);
  });

  it("packed areas are aligned 16 / 2 / 4 and do not overlap", () => {
    for (const q of [1, 2, 8, 256]) {
      for (const base of [0, 1, 3, 0x1001]) {
        const l = packSplitRing(base, q);
        assert.equal(l.descAddr % 16, 0);
        assert.equal(l.availAddr % 2, 0);
        assert.equal(l.usedAddr % 4, 0);
        assert.ok(l.descAddr >= base);
        assert.ok(l.availAddr >= l.descAddr + descTableSize(q));
        assert.ok(l.usedAddr >= l.availAddr + availRingSize(q));
        assert.equal(l.bytes, l.usedAddr + usedRingSize(q) - base);
      }
    }
  });

  it("both sides' field addresses: a queue of 8 at avail 0x1000 / used 0x2000 puts every field where §2.7 does, entries wrapping at the size", () => {
    const f = splitRingFields({ descAddr: 0, availAddr: 0x1000, usedAddr: 0x2000 }, 8);
    assert.equal(f.availFlags, 0x1000);
    assert.equal(f.availIdx, 0x1002);
    assert.equal(f.availEntry(3), 0x1004 + 2 * 3);
    assert.equal(f.availEntry(8 + 3), f.availEntry(3), "avail.ring index wraps at the size");
    assert.equal(f.usedEvent, 0x1004 + 2 * 8, "used_event after avail.ring[7]");
    assert.equal(f.usedFlags, 0x2000);
    assert.equal(f.usedIdx, 0x2002);
    assert.equal(f.usedEntry(5), 0x2004 + 8 * 5);
    assert.equal(f.usedEntry(65535), f.usedEntry(7), "a free-running u16 index wraps too");
    assert.equal(f.availEvent, 0x2004 + 8 * 8, "avail_event after used.ring[7]");
  });
});
