// SPDX-License-Identifier: Apache-2.0
/**
 * `InMemoryGuestRam`: a `GuestRam` that is its own authoritative copy — one flat buffer, no
 * hypervisor behind it. Device-model tests (`MockSplitQueue`) and the loopback transport's
 * in-process baseline use it; `flush` and `load` are no-ops because there is nothing to
 * reconcile with. See `guest-ram.ts` for the design.
 */
import { GuestRamBase } from "./guest-ram.js";

/** Flat in-process guest memory, zero-filled. */
export class InMemoryGuestRam extends GuestRamBase {
  readonly size: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(size: number) {
    super();
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad guest ram size ${size}`);
    this.size = size;
    this.#bytes = new Uint8Array(size);
    this.#view = new DataView(this.#bytes.buffer);
  }

  read(gpa: number, len: number): Uint8Array {
    this.check(gpa, len);
    return this.#bytes.slice(gpa, gpa + len);
  }

  /**
   * The bytes at [gpa, gpa + len) as a view of this memory, not a copy: for an owner that
   * knows nothing writes the range while the view is in use (a back end's chain once the
   * model completed it). `read` is the copy everyone else wants.
   */
  view(gpa: number, len: number): Uint8Array {
    this.check(gpa, len);
    return this.#bytes.subarray(gpa, gpa + len);
  }

  write(gpa: number, bytes: Uint8Array): void {
    this.check(gpa, bytes.length);
    this.#bytes.set(bytes, gpa);
  }

  override fill(gpa: number, len: number, value = 0): void {
    this.check(gpa, len);
    this.#bytes.fill(value, gpa, gpa + len);
  }

  // Direct DataView accessors: the generic ones in GuestRamBase copy through read/write.
  override readU8(gpa: number): number {
    this.check(gpa, 1);
    return this.#view.getUint8(gpa);
  }
  override readU16(gpa: number): number {
    this.check(gpa, 2);
    return this.#view.getUint16(gpa, true);
  }
  override readU32(gpa: number): number {
    this.check(gpa, 4);
    return this.#view.getUint32(gpa, true);
  }
  override readU64(gpa: number): bigint {
    this.check(gpa, 8);
    return this.#view.getBigUint64(gpa, true);
  }
  override writeU8(gpa: number, value: number): void {
    this.check(gpa, 1);
    this.#view.setUint8(gpa, value);
  }
  override writeU16(gpa: number, value: number): void {
    this.check(gpa, 2);
    this.#view.setUint16(gpa, value, true);
  }
  override writeU32(gpa: number, value: number): void {
    this.check(gpa, 4);
    this.#view.setUint32(gpa, value, true);
  }
  override writeU64(gpa: number, value: bigint): void {
    this.check(gpa, 8);
    this.#view.setBigUint64(gpa, value, true);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  load(gpa: number, len: number): Promise<void> {
    this.check(gpa, len);
    return Promise.resolve();
  }
}
