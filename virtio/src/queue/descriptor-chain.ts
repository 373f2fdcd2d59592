// SPDX-License-Identifier: Apache-2.0
/**
 * `DescriptorChain`: one available buffer as the device sees it — the chain of descriptors that
 * starts at a head index, walked and validated once (`checked`, after Firecracker's
 * `DescriptorChain::checked_new` and rust-vmm's `DescriptorChain`), then flattened into a list
 * of segments, device-readable ones first. Device models read and write it only through
 * `reader()` / `writer()` (rust-vmm `descriptor_utils.rs`), never through raw addresses.
 *
 * Rules enforced (VirtIO 1.2 §2.7.5 "The Virtqueue Descriptor Table", §2.7.5.3 "Indirect
 * Descriptors", §2.7.4.2 "Message Framing"; virtio-argo.md §2.6, §2.7, §4.9), each failing with a
 * `VirtQueueError` of the named kind:
 * - every index (head, `next`, indirect `next`) is inside its table → `descIndexOutOfBounds`;
 * - no descriptor is visited twice → `descriptorLoop` (a loop is the only way a chain within one
 *   table can be longer than that table, so this check also bounds the walk);
 * - at most Queue Size buffer descriptors in total, indirect entries included → `chainTooLong`;
 * - every buffer and indirect table lies inside guest memory → `bufferOutOfBounds`;
 * - total length fits the le32 `used.len` → `chainLengthOverflow`;
 * - no device-readable descriptor after a device-writable one → `readableAfterWritable`;
 * - INDIRECT only when negotiated, never with NEXT, never nested, table length a non-zero
 *   multiple of 16 → `indirectNotNegotiated` / `indirectWithNext` / `nestedIndirect` /
 *   `badIndirectTable`. "The device MUST ignore the write-only flag in the descriptor that refers
 *   to an indirect table", and zero or more direct descriptors may precede the indirect one.
 *
 * Each descriptor is read from guest memory exactly once, into the segment list, so a driver
 * changing the table afterwards cannot make the device see two different chains (no double fetch).
 */
import type { GuestRam } from "../memory/guest-ram.js";
import { Reader } from "./reader.js";
import {
  VIRTQ_DESC_ADDR_OFFSET,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_FLAGS_OFFSET,
  VIRTQ_DESC_LEN_OFFSET,
  VIRTQ_DESC_NEXT_OFFSET,
  VIRTQ_DESC_SIZE,
  type Descriptor,
} from "./split-ring.js";
import { VirtQueueError, VirtQueueErrorKind } from "./virtqueue-error.js";
import { Writer } from "./writer.js";

/** One buffer of a validated chain: `len` bytes at `addr` in `ram`. */
export interface ChainSegment {
  readonly addr: number;
  readonly len: number;
  /** Device-writable (VIRTQ_DESC_F_WRITE); otherwise device-readable. */
  readonly writable: boolean;
}

export interface CheckedChainOptions {
  /** Guest address of the descriptor table. */
  readonly descTable: number;
  /** Queue Size: entries in the descriptor table, and the bound on chain length. */
  readonly queueSize: number;
  /** The head index popped from the available ring. */
  readonly head: number;
  /** VIRTIO_F_INDIRECT_DESC was negotiated. */
  readonly indirect: boolean;
}

/** Reads `struct virtq_desc` number `index` of the table at `table`. */
export function readDescriptor(ram: GuestRam, table: number, index: number): Descriptor {
  const at = table + index * VIRTQ_DESC_SIZE;
  return {
    // Number() of a le64 above 2^53 is not a safe integer, so bounds checks reject it.
    addr: Number(ram.readU64(at + VIRTQ_DESC_ADDR_OFFSET)),
    len: ram.readU32(at + VIRTQ_DESC_LEN_OFFSET),
    flags: ram.readU16(at + VIRTQ_DESC_FLAGS_OFFSET),
    next: ram.readU16(at + VIRTQ_DESC_NEXT_OFFSET),
  };
}

/** Writes `struct virtq_desc` number `index` of the table at `table`. */
export function writeDescriptor(ram: GuestRam, table: number, index: number, d: Descriptor): void {
  const at = table + index * VIRTQ_DESC_SIZE;
  ram.writeU64(at + VIRTQ_DESC_ADDR_OFFSET, BigInt(d.addr));
  ram.writeU32(at + VIRTQ_DESC_LEN_OFFSET, d.len);
  ram.writeU16(at + VIRTQ_DESC_FLAGS_OFFSET, d.flags);
  ram.writeU16(at + VIRTQ_DESC_NEXT_OFFSET, d.next);
}

const MAX_CHAIN_BYTES = 0xffff_ffff;

/** A validated available buffer (see the module comment). */
export class DescriptorChain {
  readonly head: number;
  readonly ram: GuestRam;
  readonly segments: readonly ChainSegment[];
  /** Sum of the device-readable segments' lengths. */
  readonly readableBytes: number;
  /** Sum of the device-writable segments' lengths: the most `used.len` may claim. */
  readonly writableBytes: number;

  private constructor(head: number, ram: GuestRam, segments: readonly ChainSegment[]) {
    this.head = head;
    this.ram = ram;
    this.segments = segments;
    let r = 0;
    let w = 0;
    for (const s of segments) {
      if (s.writable) w += s.len;
      else r += s.len;
    }
    this.readableBytes = r;
    this.writableBytes = w;
  }

  /** Walks the chain at `head` in a split queue's descriptor table, enforcing every rule. */
  static checked(ram: GuestRam, o: CheckedChainOptions): DescriptorChain {
    const fail = (kind: VirtQueueErrorKind, msg: string): never => {
      throw new VirtQueueError(kind, `chain ${o.head}: ${msg}`);
    };
    if (!Number.isInteger(o.head) || o.head < 0 || o.head >= o.queueSize) {
      fail(VirtQueueErrorKind.descIndexOutOfBounds, `head ${o.head} >= queue size ${o.queueSize}`);
    }
    const segments: ChainSegment[] = [];
    let total = 0;
    let sawWritable = false;

    const addBuffer = (d: Descriptor): void => {
      if (segments.length >= o.queueSize) {
        fail(VirtQueueErrorKind.chainTooLong, `more than ${o.queueSize} descriptors`);
      }
      if (!ram.contains(d.addr, d.len)) {
        fail(
          VirtQueueErrorKind.bufferOutOfBounds,
          `buffer [${d.addr}, +${d.len}) outside guest memory`,
        );
      }
      const writable = (d.flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (!writable && sawWritable) {
        fail(
          VirtQueueErrorKind.readableAfterWritable,
          "device-readable descriptor after a writable one",
        );
      }
      sawWritable ||= writable;
      total += d.len;
      if (total > MAX_CHAIN_BYTES)
        fail(VirtQueueErrorKind.chainLengthOverflow, "total length above 2^32 - 1");
      segments.push({ addr: d.addr, len: d.len, writable });
    };

    // The direct part of the chain, in the queue's own table.
    const visited = new Uint8Array(o.queueSize);
    let index = o.head;
    for (;;) {
      if (visited[index] === 1)
        fail(VirtQueueErrorKind.descriptorLoop, `descriptor ${index} visited twice`);
      visited[index] = 1;
      const d = readDescriptor(ram, o.descTable, index);
      if ((d.flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (!o.indirect)
          fail(VirtQueueErrorKind.indirectNotNegotiated, "INDIRECT without VIRTIO_F_INDIRECT_DESC");
        if ((d.flags & VIRTQ_DESC_F_NEXT) !== 0)
          fail(VirtQueueErrorKind.indirectWithNext, "INDIRECT together with NEXT");
        walkIndirect(d);
        break; // INDIRECT without NEXT ends the chain.
      }
      addBuffer(d);
      if ((d.flags & VIRTQ_DESC_F_NEXT) === 0) break;
      if (d.next >= o.queueSize) {
        fail(
          VirtQueueErrorKind.descIndexOutOfBounds,
          `next ${d.next} >= queue size ${o.queueSize}`,
        );
      }
      index = d.next;
    }
    return new DescriptorChain(o.head, ram, segments);

    function walkIndirect(ind: Descriptor): void {
      if (ind.len === 0 || ind.len % VIRTQ_DESC_SIZE !== 0) {
        fail(VirtQueueErrorKind.badIndirectTable, `indirect table length ${ind.len}`);
      }
      if (!ram.contains(ind.addr, ind.len)) {
        fail(
          VirtQueueErrorKind.bufferOutOfBounds,
          `indirect table [${ind.addr}, +${ind.len}) outside guest memory`,
        );
      }
      const entries = ind.len / VIRTQ_DESC_SIZE;
      const seen = new Uint8Array(entries);
      let i = 0; // "chained by next from index 0"
      for (;;) {
        if (seen[i] === 1)
          fail(VirtQueueErrorKind.descriptorLoop, `indirect descriptor ${i} visited twice`);
        seen[i] = 1;
        const d = readDescriptor(ram, ind.addr, i);
        if ((d.flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
          fail(VirtQueueErrorKind.nestedIndirect, "INDIRECT inside an indirect table");
        }
        addBuffer(d);
        if ((d.flags & VIRTQ_DESC_F_NEXT) === 0) return;
        if (d.next >= entries) {
          fail(
            VirtQueueErrorKind.descIndexOutOfBounds,
            `indirect next ${d.next} >= table entries ${entries}`,
          );
        }
        i = d.next;
      }
    }
  }

  /**
   * A chain built from segments that did not come from a descriptor table (the Argo device host
   * rebuilds chains from AVAIL records into local memory, virtio-argo.md §4.6 step 4). The same
   * rules apply: bounds, ordering, length, at most `queueSize` segments.
   */
  static fromSegments(
    ram: GuestRam,
    head: number,
    segments: readonly ChainSegment[],
    queueSize: number,
  ): DescriptorChain {
    const fail = (kind: VirtQueueErrorKind, msg: string): never => {
      throw new VirtQueueError(kind, `chain ${head}: ${msg}`);
    };
    if (!Number.isInteger(head) || head < 0 || head >= queueSize) {
      fail(VirtQueueErrorKind.descIndexOutOfBounds, `head ${head} >= queue size ${queueSize}`);
    }
    if (segments.length > queueSize)
      fail(VirtQueueErrorKind.chainTooLong, `${segments.length} segments`);
    let total = 0;
    let sawWritable = false;
    for (const s of segments) {
      if (!ram.contains(s.addr, s.len))
        fail(VirtQueueErrorKind.bufferOutOfBounds, "segment outside memory");
      if (!s.writable && sawWritable) {
        fail(
          VirtQueueErrorKind.readableAfterWritable,
          "device-readable segment after a writable one",
        );
      }
      sawWritable ||= s.writable;
      total += s.len;
      if (total > MAX_CHAIN_BYTES)
        fail(VirtQueueErrorKind.chainLengthOverflow, "total length above 2^32 - 1");
    }
    return new DescriptorChain(
      head,
      ram,
      segments.map((s) => ({ ...s })),
    );
  }

  /** A reader over the device-readable part. */
  reader(): Reader {
    return new Reader(
      this.ram,
      this.segments.filter((s) => !s.writable),
    );
  }

  /** A writer over the device-writable part. */
  writer(): Writer {
    return new Writer(
      this.ram,
      this.segments.filter((s) => s.writable),
    );
  }
}
