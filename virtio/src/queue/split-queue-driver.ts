// SPDX-License-Identifier: Apache-2.0
/**
 * `SplitQueueDriver`: the driver side of a split virtqueue, VirtIO 1.2 §2.7.13 "Supplying Buffers
 * to The Device" and §2.7.14 "Receiving Used Buffers From The Device" (virtio-argo.md §2.6,
 * §2.7), modelled on Linux `drivers/virtio/virtio_ring.c` (`virtqueue_add_split`,
 * `virtqueue_kick_prepare_split`, `virtqueue_get_buf_ctx_split`, `virtqueue_enable_cb`).
 *
 * - `add(out, in, token)` places a buffer — device-readable elements then device-writable ones —
 *   as a chain of direct descriptors, or, with VIRTIO_F_INDIRECT_DESC and more than one element,
 *   as one descriptor pointing at an indirect table (as Linux does), then publishes it in the
 *   available ring and bumps `avail.idx`.
 * - `kickPrepare()` says whether the device wants an available-buffer notification for what was
 *   added since the last call: `!(used.flags & VIRTQ_USED_F_NO_NOTIFY)`, or with EVENT_IDX
 *   `vring_need_event(avail_event, new, old)`.
 * - `getBuf()` collects one used buffer and returns its token and `used.len`.
 *
 * The free list and per-head state live in driver-private memory (Linux `desc_extra`), never in
 * the descriptor table, so nothing the device writes can redirect them. Hardening (§4.9,
 * hostile device; Linux BAD_RING): a used id that is out of range, not an outstanding head
 * (bogus or duplicate), or a `used.len` above the chain's writable bytes, or a `used.idx` that
 * jumps past the outstanding count, is counted and logged, breaks the queue, and throws
 * `VirtQueueError`; the driver then fails and resets the device.
 */
import type { GuestRam } from "../memory/guest-ram.js";
import type { DmaAllocator } from "../memory/dma-allocator.js";
import type { ViolationKind, ViolationLog } from "../violation-log.js";
import { writeDescriptor } from "./descriptor-chain.js";
import { vringNeedEvent } from "./need-event.js";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
  VIRTQ_USED_F_NO_NOTIFY,
  availRingSize,
  descTableSize,
  isValidQueueSize,
  usedRingSize,
  splitRingFields,
  type SplitRingAddresses,
  type SplitRingFields,
} from "./split-ring.js";
import { VirtQueueError, VirtQueueErrorKind } from "./virtqueue-error.js";

/** One element of a buffer: `len` bytes at guest address `addr` (a scatter-gather entry). */
export interface BufferElement {
  readonly addr: number;
  readonly len: number;
}

export interface SplitQueueDriverOptions extends SplitRingAddresses {
  readonly ram: GuestRam;
  readonly index: number;
  readonly size: number;
  /** VIRTIO_F_EVENT_IDX negotiated. */
  readonly eventIdx: boolean;
  /** Where indirect tables come from; indirect descriptors are used only when given. */
  readonly indirectAllocator?: DmaAllocator;
  readonly violations: ViolationLog;
}

/** A used buffer handed back to the driver. */
export interface UsedBuffer<T> {
  readonly token: T;
  /** Bytes the device says it wrote into the device-writable part. */
  readonly len: number;
}

interface Outstanding<T> {
  readonly token: T;
  /** Descriptor indexes of the chain in the queue's table (freed on completion). */
  readonly descs: readonly number[];
  readonly writableBytes: number;
  /** gpa of the indirect table, if one was used. */
  readonly indirectTable: number | undefined;
}

/** Driver side of one split virtqueue (see the module comment). */
export class SplitQueueDriver<T = unknown> {
  readonly index: number;
  readonly size: number;
  readonly #o: SplitQueueDriverOptions;
  /** Where the ring's fields are. */
  readonly #at: SplitRingFields;
  readonly #ram: GuestRam;
  /** Free descriptor indexes (a stack). */
  readonly #free: number[] = [];
  readonly #outstanding: (Outstanding<T> | undefined)[];
  #outstandingCount = 0;
  /** Driver's copy of avail.idx (Linux avail_idx_shadow). */
  #availIdx = 0;
  /** Buffers added since the last kickPrepare. */
  #numAdded = 0;
  /** Next used.ring slot to read (Linux last_used_idx). */
  #lastUsed = 0;
  #callbacksEnabled = true;
  #broken: VirtQueueError | undefined;

  constructor(options: SplitQueueDriverOptions) {
    if (!isValidQueueSize(options.size)) {
      throw new VirtQueueError(VirtQueueErrorKind.invalidQueueSize, `queue size ${options.size}`);
    }
    this.#o = options;
    this.#at = splitRingFields(options, options.size);
    this.#ram = options.ram;
    this.index = options.index;
    this.size = options.size;
    this.#outstanding = new Array<Outstanding<T> | undefined>(options.size).fill(undefined);
    // §2.7: the driver zeroes the areas before handing them to the device.
    this.#ram.fill(options.descAddr, descTableSize(options.size));
    this.#ram.fill(options.availAddr, availRingSize(options.size));
    this.#ram.fill(options.usedAddr, usedRingSize(options.size));
    for (let i = options.size - 1; i >= 0; i--) this.#free.push(i);
  }

  /** Free descriptors in the queue's table. */
  get numFree(): number {
    return this.#free.length;
  }
  /** Buffers made available and not yet used. */
  get inFlight(): number {
    return this.#outstandingCount;
  }
  /** The violation that broke the queue, if any. */
  get broken(): VirtQueueError | undefined {
    return this.#broken;
  }

  /**
   * Makes a buffer available: `out` elements are device-readable, `in` elements device-writable
   * (§2.7.4.2: readable before writable). Returns the head index.
   */
  add(out: readonly BufferElement[], inn: readonly BufferElement[], token: T): number {
    this.#checkNotBroken();
    const total = out.length + inn.length;
    if (total === 0)
      throw new VirtQueueError(
        VirtQueueErrorKind.emptyBuffer,
        "a buffer needs at least one element",
      );
    const elems = [
      ...out.map((e) => ({ ...e, flags: 0 })),
      ...inn.map((e) => ({ ...e, flags: VIRTQ_DESC_F_WRITE })),
    ];
    const writableBytes = inn.reduce((n, e) => n + e.len, 0);
    const allocator = this.#o.indirectAllocator;
    let head: number;
    let descs: number[];
    let indirectTable: number | undefined;
    if (allocator !== undefined && total > 1 && this.#free.length >= 1 && total <= this.size) {
      // One descriptor in the ring, the elements in a table of their own (§2.7.5.3).
      indirectTable = allocator.alloc(total * VIRTQ_DESC_SIZE, 16);
      elems.forEach((e, i) => {
        const last = i === total - 1;
        writeDescriptor(this.#ram, indirectTable ?? 0, i, {
          addr: e.addr,
          len: e.len,
          flags: e.flags | (last ? 0 : VIRTQ_DESC_F_NEXT),
          next: last ? 0 : i + 1,
        });
      });
      head = this.#take();
      descs = [head];
      writeDescriptor(this.#ram, this.#o.descAddr, head, {
        addr: indirectTable,
        len: total * VIRTQ_DESC_SIZE,
        flags: VIRTQ_DESC_F_INDIRECT,
        next: 0,
      });
    } else {
      if (this.#free.length < total) {
        throw new VirtQueueError(
          VirtQueueErrorKind.queueFull,
          `queue ${this.index}: ${total} descriptors needed, ${this.#free.length} free`,
        );
      }
      descs = elems.map(() => this.#take());
      head = descs[0] ?? 0;
      elems.forEach((e, i) => {
        const last = i === total - 1;
        writeDescriptor(this.#ram, this.#o.descAddr, descs[i] ?? 0, {
          addr: e.addr,
          len: e.len,
          flags: e.flags | (last ? 0 : VIRTQ_DESC_F_NEXT),
          next: last ? 0 : (descs[i + 1] ?? 0),
        });
      });
    }
    this.#outstanding[head] = { token, descs, writableBytes, indirectTable };
    this.#outstandingCount++;
    // Descriptors first, then the ring entry, then idx (the §2.7.13 ordering; our "barrier" is
    // program order, and the transport flushes before the device can look).
    this.#ram.writeU16(this.#at.availEntry(this.#availIdx), head);
    this.#availIdx = (this.#availIdx + 1) & 0xffff;
    this.#ram.writeU16(this.#at.availIdx, this.#availIdx);
    this.#numAdded++;
    return head;
  }

  /** Whether to notify the device about the buffers added since the last call (§2.7.13.4). */
  kickPrepare(): boolean {
    const newIdx = this.#availIdx;
    const oldIdx = (newIdx - this.#numAdded) & 0xffff;
    this.#numAdded = 0;
    if (newIdx === oldIdx) return false;
    if (this.#o.eventIdx) {
      const availEvent = this.#ram.readU16(this.#at.availEvent);
      return vringNeedEvent(availEvent, newIdx, oldIdx);
    }
    const flags = this.#ram.readU16(this.#at.usedFlags);
    return (flags & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /** True when the device has used buffers the driver has not collected. */
  hasUsed(): boolean {
    return this.#broken === undefined && this.#ram.readU16(this.#at.usedIdx) !== this.#lastUsed;
  }

  /** Collects one used buffer, validating what the device wrote; undefined when none. */
  getBuf(): UsedBuffer<T> | undefined {
    this.#checkNotBroken();
    const usedIdx = this.#ram.readU16(this.#at.usedIdx);
    if (usedIdx === this.#lastUsed) return undefined;
    const ahead = (usedIdx - this.#lastUsed) & 0xffff;
    if (ahead > this.#outstandingCount) {
      this.#fail(
        VirtQueueErrorKind.invalidUsedIdx,
        `used.idx ${usedIdx} is ${ahead} ahead with ${this.#outstandingCount} outstanding`,
      );
    }
    const at = this.#at.usedEntry(this.#lastUsed);
    // Read id and len once each (no double fetch).
    const id = this.#ram.readU32(at);
    const len = this.#ram.readU32(at + 4);
    if (id >= this.size)
      this.#fail(VirtQueueErrorKind.usedIdOutOfRange, `used id ${id} >= queue size ${this.size}`);
    const st = this.#outstanding[id];
    if (st === undefined) {
      return this.#fail(
        VirtQueueErrorKind.usedIdNotOutstanding,
        `used id ${id} is not an outstanding head`,
      );
    }
    if (len > st.writableBytes) {
      this.#fail(
        VirtQueueErrorKind.usedLenTooLarge,
        `used len ${len} > ${st.writableBytes} writable bytes of head ${id}`,
      );
    }
    this.#outstanding[id] = undefined;
    this.#outstandingCount--;
    for (const d of st.descs) this.#free.push(d);
    if (st.indirectTable !== undefined) this.#o.indirectAllocator?.free(st.indirectTable);
    this.#lastUsed = (this.#lastUsed + 1) & 0xffff;
    if (this.#o.eventIdx && this.#callbacksEnabled) {
      // "If we expect an interrupt for the next entry, tell host by writing event index."
      this.#ram.writeU16(this.#at.usedEvent, this.#lastUsed);
    }
    return { token: st.token, len };
  }

  /** Asks the device not to interrupt (avail.flags = NO_INTERRUPT; advisory, §2.7.10). */
  disableCb(): void {
    this.#callbacksEnabled = false;
    if (!this.#o.eventIdx) {
      this.#ram.writeU16(this.#at.availFlags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
  }

  /**
   * Asks for interrupts again; returns false if used buffers are already pending (the caller
   * must poll them, since the device may not interrupt for them), as Linux `virtqueue_enable_cb`.
   */
  enableCb(): boolean {
    this.#callbacksEnabled = true;
    if (this.#o.eventIdx) {
      this.#ram.writeU16(this.#at.usedEvent, this.#lastUsed);
    } else {
      this.#ram.writeU16(this.#at.availFlags, 0);
    }
    return !this.hasUsed();
  }

  /**
   * Takes back every outstanding buffer's token, after the device was reset (§2.3: the driver
   * resets the device before reclaiming exposed buffers). Frees indirect tables.
   */
  detachAll(): T[] {
    const tokens: T[] = [];
    this.#outstanding.forEach((st, i) => {
      if (st === undefined) return;
      tokens.push(st.token);
      if (st.indirectTable !== undefined) this.#o.indirectAllocator?.free(st.indirectTable);
      this.#outstanding[i] = undefined;
    });
    this.#outstandingCount = 0;
    return tokens;
  }

  #take(): number {
    const d = this.#free.pop();
    if (d === undefined)
      throw new VirtQueueError(
        VirtQueueErrorKind.queueFull,
        `queue ${this.index}: no free descriptor`,
      );
    return d;
  }

  #checkNotBroken(): void {
    if (this.#broken !== undefined) {
      throw new VirtQueueError(VirtQueueErrorKind.queueBroken, `queue ${this.index} is broken`, {
        cause: this.#broken,
      });
    }
  }

  #fail(kind: VirtQueueErrorKind & ViolationKind, message: string): never {
    const err = new VirtQueueError(kind, `queue ${this.index}: ${message}`);
    this.#broken = err;
    this.#o.violations.report(kind, { queue: this.index, side: "driver" });
    throw err;
  }
}
