// SPDX-License-Identifier: Apache-2.0
/**
 * `Reader`: sequential reads over the device-readable part of a descriptor chain, so that a
 * device model handles "a 16-byte header then data" without caring how the driver split it
 * into descriptors — VirtIO 1.2 §2.7.4 "Message Framing": "The device MUST NOT make assumptions
 * about the particular arrangement of descriptors" (rust-vmm `descriptor_utils::Reader`).
 * Reading past the end throws `VirtQueueError` kind `bufferTooShort` and consumes nothing.
 */
import type { GuestRam } from "../memory/guest-ram.js";
import type { ChainSegment } from "./descriptor-chain.js";
import { VirtQueueError, VirtQueueErrorKind } from "./virtqueue-error.js";

/** Sequential reader over a list of device-readable segments. */
export class Reader {
  readonly #ram: GuestRam;
  readonly #segments: readonly ChainSegment[];
  #seg = 0;
  #off = 0;
  #read = 0;
  readonly #total: number;

  constructor(ram: GuestRam, segments: readonly ChainSegment[]) {
    this.#ram = ram;
    this.#segments = segments;
    this.#total = segments.reduce((n, s) => n + s.len, 0);
  }

  /** Bytes not yet read. */
  get available(): number {
    return this.#total - this.#read;
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.#read;
  }

  /** Reads exactly `n` bytes. */
  read(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0 || n > this.available) {
      throw new VirtQueueError(
        VirtQueueErrorKind.bufferTooShort,
        `read of ${n} bytes with ${this.available} readable bytes left`,
      );
    }
    // Bytes within one segment (a blk request's data, mostly): `GuestRam.read` returns a copy
    // already, so it is handed out as is rather than copied a second time.
    const first = this.#segments[this.#seg];
    if (first !== undefined && n > 0 && first.len - this.#off >= n) {
      const out = this.#ram.read(first.addr + this.#off, n);
      this.#advance(first.len, n);
      this.#read += n;
      return out;
    }
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const seg = this.#segments[this.#seg];
      if (seg === undefined) break; // unreachable: n <= available
      const take = Math.min(seg.len - this.#off, n - done);
      if (take > 0) out.set(this.#ram.read(seg.addr + this.#off, take), done);
      done += take;
      this.#advance(seg.len, take);
    }
    this.#read += n;
    return out;
  }

  /** Moves `take` bytes into the current segment (of `segLen` bytes), onto the next at its end. */
  #advance(segLen: number, take: number): void {
    this.#off += take;
    if (this.#off === segLen) {
      this.#seg++;
      this.#off = 0;
    }
  }

  /** Reads everything left. */
  readAll(): Uint8Array {
    return this.read(this.available);
  }

  /** Reads `n` bytes as a little-endian DataView (for headers). */
  readView(n: number): DataView {
    const b = this.read(n);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
}
