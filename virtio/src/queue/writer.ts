// SPDX-License-Identifier: Apache-2.0
/**
 * `Writer`: sequential writes into the device-writable part of a descriptor chain (rust-vmm
 * `descriptor_utils::Writer`; VirtIO 1.2 §2.7.4 message framing). `splitAt` cuts off a tail
 * writer, which is how a device reaches a trailer such as virtio-blk's status byte — the last
 * writable byte — without assuming the descriptor layout. Writing past the end throws
 * `VirtQueueError` kind `bufferTooShort` and writes nothing. `bytesWritten` is what the device
 * reports as `used.len` (§2.7.8: at least that many bytes really were written).
 */
import type { GuestRam } from "../memory/guest-ram.js";
import type { ChainSegment } from "./descriptor-chain.js";
import { VirtQueueError, VirtQueueErrorKind } from "./virtqueue-error.js";

/** Sequential writer over a list of device-writable segments. */
export class Writer {
  readonly #ram: GuestRam;
  #segments: ChainSegment[];
  #seg = 0;
  #off = 0;
  #written = 0;
  #total: number;

  constructor(ram: GuestRam, segments: readonly ChainSegment[]) {
    this.#ram = ram;
    this.#segments = segments.map((s) => ({ ...s }));
    this.#total = segments.reduce((n, s) => n + s.len, 0);
  }

  /** Bytes that can still be written. */
  get available(): number {
    return this.#total - this.#written;
  }

  /** Bytes written so far through this writer. */
  get bytesWritten(): number {
    return this.#written;
  }

  /** Writes all of `bytes`. */
  write(bytes: Uint8Array): void {
    if (bytes.length > this.available) {
      throw new VirtQueueError(
        VirtQueueErrorKind.bufferTooShort,
        `write of ${bytes.length} bytes with ${this.available} writable bytes left`,
      );
    }
    let done = 0;
    while (done < bytes.length) {
      const seg = this.#segments[this.#seg];
      if (seg === undefined) break; // unreachable: length <= available
      const take = Math.min(seg.len - this.#off, bytes.length - done);
      if (take > 0) this.#ram.write(seg.addr + this.#off, bytes.subarray(done, done + take));
      done += take;
      this.#off += take;
      if (this.#off === seg.len) {
        this.#seg++;
        this.#off = 0;
      }
    }
    this.#written += bytes.length;
  }

  writeU8(value: number): void {
    this.write(Uint8Array.of(value & 0xff));
  }

  /**
   * Splits at `offset` bytes from the current position: this writer keeps `[0, offset)` and the
   * returned writer covers the rest.
   */
  splitAt(offset: number): Writer {
    if (!Number.isInteger(offset) || offset < 0 || offset > this.available) {
      throw new VirtQueueError(
        VirtQueueErrorKind.bufferTooShort,
        `split at ${offset} with ${this.available} writable bytes left`,
      );
    }
    // Remaining segments from the cursor, then cut them at `offset`.
    const rest: ChainSegment[] = [];
    for (let i = this.#seg; i < this.#segments.length; i++) {
      const s = this.#segments[i];
      if (s === undefined) continue;
      const skip = i === this.#seg ? this.#off : 0;
      if (s.len - skip > 0) rest.push({ addr: s.addr + skip, len: s.len - skip, writable: true });
    }
    const head: ChainSegment[] = [];
    const tail: ChainSegment[] = [];
    let left = offset;
    for (const s of rest) {
      if (left >= s.len) {
        head.push(s);
        left -= s.len;
      } else if (left > 0) {
        head.push({ addr: s.addr, len: left, writable: true });
        tail.push({ addr: s.addr + left, len: s.len - left, writable: true });
        left = 0;
      } else {
        tail.push(s);
      }
    }
    this.#segments = head;
    this.#seg = 0;
    this.#off = 0;
    this.#total = this.#written + offset;
    return new Writer(this.#ram, tail);
  }
}
