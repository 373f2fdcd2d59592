// SPDX-License-Identifier: Apache-2.0
/**
 * `MockSplitQueue`: the driver side of a split virtqueue for device-model tests, after rust-vmm's
 * `virtio_queue::mock::MockSplitQueue` and Firecracker's `test_utils::VirtQueue`. It writes the
 * descriptor table and both rings (VirtIO 1.2 §2.7) into an `InMemoryGuestRam` byte by byte, so a
 * device model is tested exactly as a driver drives it — including hostile drivers: descriptors,
 * ring indexes and flags can be written raw, with any value. `createDeviceQueue` returns the
 * device-side `SplitQueue` over the same memory, recording its interrupts and breakage. Test code.
 */
import { InMemoryGuestRam } from "../memory/in-memory-guest-ram.js";
import { readDescriptor, writeDescriptor } from "../queue/descriptor-chain.js";
import { SplitQueue } from "../queue/split-queue.js";
import {
  VIRTQ_AVAIL_FLAGS_OFFSET,
  VIRTQ_AVAIL_IDX_OFFSET,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
  VIRTQ_USED_FLAGS_OFFSET,
  VIRTQ_USED_IDX_OFFSET,
  availEventOffset,
  availRingEntryOffset,
  packSplitRing,
  usedEventOffset,
  usedRingEntryOffset,
  type Descriptor,
} from "../queue/split-ring.js";
import type { VirtQueueError } from "../queue/virtqueue-error.js";
import { ViolationLog } from "../violation-log.js";

/** A descriptor to write; `next` / NEXT are filled in by `buildDescChain` when omitted. */
export interface MockDesc {
  readonly addr: number;
  readonly len: number;
  readonly flags?: number;
  readonly next?: number;
}

/** A buffer placed by `addBuffer`: where its device-writable elements are. */
export interface MockBuffer {
  readonly head: number;
  readonly writable: readonly { readonly addr: number; readonly len: number }[];
}

export interface MockSplitQueueOptions {
  readonly size?: number;
  /** Guest memory size (default 1 MiB). */
  readonly memorySize?: number;
  /** Where the rings start (default 0x1000). */
  readonly base?: number;
  readonly index?: number;
}

/** Driver-side split-queue harness over in-memory guest RAM (see the module comment). */
export class MockSplitQueue {
  readonly ram: InMemoryGuestRam;
  readonly size: number;
  readonly index: number;
  readonly descAddr: number;
  readonly availAddr: number;
  readonly usedAddr: number;
  readonly violations = new ViolationLog();
  /** Queue indexes of every used-buffer notification the device raised. */
  readonly interrupts: number[] = [];
  /** Errors that broke the device-side queue. */
  readonly broken: VirtQueueError[] = [];
  #nextDesc = 0;
  #availIdx = 0;
  #bump: number;

  constructor(options: MockSplitQueueOptions = {}) {
    this.size = options.size ?? 16;
    this.index = options.index ?? 0;
    this.ram = new InMemoryGuestRam(options.memorySize ?? 1024 * 1024);
    const layout = packSplitRing(options.base ?? 0x1000, this.size);
    this.descAddr = layout.descAddr;
    this.availAddr = layout.availAddr;
    this.usedAddr = layout.usedAddr;
    this.#bump = Math.ceil((layout.usedAddr + 6 + 8 * this.size) / 4096) * 4096;
  }

  /** Allocates a data buffer (16-aligned) after the rings, optionally filled. */
  allocBuffer(len: number, contents?: Uint8Array): number {
    const addr = this.#bump;
    this.#bump = Math.ceil((addr + Math.max(len, 1)) / 16) * 16;
    if (contents !== undefined) this.ram.write(addr, contents);
    return addr;
  }

  /** Writes descriptor `index` raw. */
  writeDesc(index: number, d: MockDesc): void {
    writeDescriptor(this.ram, this.descAddr, index, {
      addr: d.addr,
      len: d.len,
      flags: d.flags ?? 0,
      next: d.next ?? 0,
    });
  }

  readDesc(index: number): Descriptor {
    return readDescriptor(this.ram, this.descAddr, index);
  }

  /**
   * Writes `descs` at consecutive free indexes, linking each to the next with NEXT (rust-vmm
   * `build_desc_chain`); returns the head index.
   */
  buildDescChain(descs: readonly MockDesc[]): number {
    const head = this.#nextDesc;
    descs.forEach((d, i) => {
      const idx = (head + i) % this.size;
      const last = i === descs.length - 1;
      this.writeDesc(idx, {
        addr: d.addr,
        len: d.len,
        flags: (d.flags ?? 0) | (last ? 0 : VIRTQ_DESC_F_NEXT),
        next: d.next ?? (last ? 0 : (idx + 1) % this.size),
      });
    });
    this.#nextDesc = (head + descs.length) % this.size;
    return head;
  }

  /** Writes an indirect table of `descs` (linked like `buildDescChain`); returns its address and length. */
  writeIndirectTable(descs: readonly MockDesc[]): { addr: number; len: number } {
    const addr = this.allocBuffer(descs.length * VIRTQ_DESC_SIZE);
    descs.forEach((d, i) => {
      const last = i === descs.length - 1;
      writeDescriptor(this.ram, addr, i, {
        addr: d.addr,
        len: d.len,
        flags: (d.flags ?? 0) | (last ? 0 : VIRTQ_DESC_F_NEXT),
        next: d.next ?? (last ? 0 : i + 1),
      });
    });
    return { addr, len: descs.length * VIRTQ_DESC_SIZE };
  }

  /** Publishes `head` in the available ring and bumps avail.idx. */
  addAvail(head: number): void {
    this.ram.writeU16(this.availAddr + availRingEntryOffset(this.#availIdx % this.size), head);
    this.#availIdx = (this.#availIdx + 1) & 0xffff;
    this.ram.writeU16(this.availAddr + VIRTQ_AVAIL_IDX_OFFSET, this.#availIdx);
  }

  /** Places a buffer — readable elements with contents, then writable ones of given lengths — and publishes it. */
  addBuffer(readable: readonly Uint8Array[], writableLens: readonly number[]): MockBuffer {
    const writable = writableLens.map((len) => ({ addr: this.allocBuffer(len), len }));
    const head = this.buildDescChain([
      ...readable.map((b) => ({ addr: this.allocBuffer(b.length, b), len: b.length })),
      ...writable.map((w) => ({ ...w, flags: VIRTQ_DESC_F_WRITE })),
    ]);
    this.addAvail(head);
    return { head, writable };
  }

  /** Sets avail.idx raw (hostile driver). */
  setAvailIdx(idx: number): void {
    this.#availIdx = idx & 0xffff;
    this.ram.writeU16(this.availAddr + VIRTQ_AVAIL_IDX_OFFSET, this.#availIdx);
  }
  setAvailFlags(flags: number): void {
    this.ram.writeU16(this.availAddr + VIRTQ_AVAIL_FLAGS_OFFSET, flags);
  }
  setUsedEvent(idx: number): void {
    this.ram.writeU16(this.availAddr + usedEventOffset(this.size), idx);
  }
  usedIdx(): number {
    return this.ram.readU16(this.usedAddr + VIRTQ_USED_IDX_OFFSET);
  }
  usedFlags(): number {
    return this.ram.readU16(this.usedAddr + VIRTQ_USED_FLAGS_OFFSET);
  }
  availEvent(): number {
    return this.ram.readU16(this.usedAddr + availEventOffset(this.size));
  }
  /** used.ring[i] (i taken modulo the size). */
  usedElem(i: number): { id: number; len: number } {
    const at = this.usedAddr + usedRingEntryOffset(i % this.size);
    return { id: this.ram.readU32(at), len: this.ram.readU32(at + 4) };
  }

  /** The device-side queue over this memory. */
  createDeviceQueue(
    options: { eventIdx?: boolean; indirect?: boolean; maxSize?: number } = {},
  ): SplitQueue {
    return SplitQueue.create(
      this.ram,
      {
        index: this.index,
        size: this.size,
        maxSize: options.maxSize ?? this.size,
        descAddr: this.descAddr,
        availAddr: this.availAddr,
        usedAddr: this.usedAddr,
        eventIdx: options.eventIdx ?? false,
        indirect: options.indirect ?? false,
      },
      {
        violations: this.violations,
        interrupt: (q) => this.interrupts.push(q),
        onBroken: (err) => this.broken.push(err),
      },
    );
  }
}
