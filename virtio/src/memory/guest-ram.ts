// SPDX-License-Identifier: Apache-2.0
/**
 * `GuestRam`: how the virtio code sees "the guest's own memory" — the memory VirtIO 1.2 §2.6
 * puts the descriptor table, the rings and every buffer in (virtio-argo.md §2.6; §4.6 step 1:
 * "the driver builds the split ring in its own RAM as normal").
 *
 * Why a synchronous interface over a local shadow. In hmx a guest reaches its own memory only
 * through hypercalls (`ReadMemory` / `WriteMemory`), which are asynchronous. A virtio driver and
 * a device model, however, are written as on real hardware: they poke descriptors, ring indexes
 * and buffers with plain loads and stores, one field at a time, and Linux's `virtio_ring.c` and
 * Firecracker's `queue.rs` interleave dozens of those per request. Making every field access an
 * awaited hypercall would put a gRPC round trip on every u16 and an `await` inside every ring
 * critical section (house-style §6.3 forbids that). So the virtio code works on a **local shadow**
 * of the guest's pages with synchronous `read` / `write` and typed little-endian accessors, and
 * the shadow is reconciled with the hypervisor at the few points where it matters:
 *
 * - `flush()` writes every dirty byte back with batched `WriteMemory` calls. The hypervisor stays
 *   authoritative: a `sendv`'s iovs read the hypervisor's copy, never the shadow, so the Argo
 *   transport flushes before it sends (the "barrier" of §2.6, made explicit).
 * - `takeWrites()` is `flush()` taken apart, for a caller that sends anyway: it hands over the
 *   dirty bytes as `WriteMemory` ops to put at the front of the caller's own multicall, ahead of
 *   the calls that read them (the Argo channel puts them before its `sendv`s, so a kick costs one
 *   round trip, not a flush and then a send), and the caller reports the outcomes back with
 *   `settle` / `abandon`, which keep whatever was not written dirty.
 * - `load(gpa, len)` (re)fetches a range from the hypervisor, for pages the shadow has not seen
 *   yet or that something other than this code (the hypervisor, on Argo delivery) has written.
 *
 * Only the guest itself ever writes the pages it hands to virtio (Argo rings live in other pages,
 * read by libargo), so between flushes the shadow is the newer copy; `load` therefore keeps the
 * dirty bytes of a page over the fetched ones. Accesses are bounds-checked against the guest's
 * memory size and throw `GuestRamError`; callers that take an address from a peer (a descriptor,
 * a ring) check it first and turn a failure into their own typed error.
 *
 * `InMemoryGuestRam` (tests, the in-process baseline) and `ShadowGuestRam` (hypercall-backed)
 * both extend `GuestRamBase`, which supplies the typed accessors over `read` / `write`.
 */

/**
 * One dirty span written back: shaped like the hypercall layer's `WriteMemory` op so that a
 * caller can put it in its own multicall as is, without this package knowing hypercalls.
 */
export interface MemoryWriteOp {
  readonly op: "writeMemory";
  readonly gpa: number;
  readonly data: Uint8Array;
}

/**
 * What settles one `MemoryWriteOp`: the outcome's op name and `ret` (0 = written), or, for an op
 * that did not run, a status `code` and `message`. A hypercall outcome fits this shape.
 */
export interface MemoryWriteOutcome {
  readonly op: string;
  readonly ret?: number;
  readonly code?: number;
  readonly message?: string;
}

/** Why a guest memory access failed. */
export const GuestRamErrorKind = {
  /** The range is not inside guest memory (or not a non-negative safe integer range). */
  outOfBounds: "outOfBounds",
  /** The shadow does not hold this page: `load` (or `adoptZeroed`) it first. */
  notResident: "notResident",
  /** A `flush` or `load` hypercall failed (negative Xen errno, or a status error). */
  hypercallFailed: "hypercallFailed",
} as const;
export type GuestRamErrorKind = (typeof GuestRamErrorKind)[keyof typeof GuestRamErrorKind];

/**
 * Dirty bytes handed to a caller's multicall by `GuestRam.takeWrites` (see the module comment).
 * The spans are no longer dirty once taken, so exactly one of `settle` / `abandon` must follow:
 * either puts back every span that was not written, so nothing is ever lost.
 */
export interface PendingWrites {
  /** `WriteMemory` ops, in address order; they must execute before anything that reads them. */
  readonly ops: readonly MemoryWriteOp[];
  /**
   * The outcomes of `ops`, in order (`undefined` or a status outcome for one that did not run).
   * Every span not written with ret 0 is dirty again; returns the failure, or null.
   */
  settle(outcomes: readonly (MemoryWriteOutcome | undefined)[]): GuestRamError | null;
  /** The multicall failed as a whole (nothing says what ran): every span is dirty again. */
  abandon(cause: unknown): GuestRamError;
}

/** A guest memory access that cannot be served. */
export class GuestRamError extends Error {
  override readonly name = "GuestRamError";
  constructor(
    readonly kind: GuestRamErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The guest's own memory as the virtio code uses it (see the module comment). */
export interface GuestRam {
  /** Bytes of guest-physical memory; valid addresses are `[0, size)`. */
  readonly size: number;
  /** A copy of `len` bytes at `gpa`. */
  read(gpa: number, len: number): Uint8Array;
  /** Stores `bytes` at `gpa` (and marks them dirty where the implementation tracks that). */
  write(gpa: number, bytes: Uint8Array): void;
  /** Stores `len` zero bytes at `gpa`. */
  fill(gpa: number, len: number, value?: number): void;
  readU8(gpa: number): number;
  readU16(gpa: number): number;
  readU32(gpa: number): number;
  /** A le64 as a bigint (descriptor addresses are 64-bit). */
  readU64(gpa: number): bigint;
  writeU8(gpa: number, value: number): void;
  writeU16(gpa: number, value: number): void;
  writeU32(gpa: number, value: number): void;
  writeU64(gpa: number, value: bigint): void;
  /** True when `[gpa, gpa + len)` is a valid range of guest memory. */
  contains(gpa: number, len: number): boolean;
  /** Writes dirty bytes back to the authoritative copy (a no-op where there is none). */
  flush(): Promise<void>;
  /**
   * Takes the dirty bytes as ops for the caller's own multicall (see `PendingWrites`); null when
   * nothing is dirty or there is no authoritative copy.
   */
  takeWrites(): PendingWrites | null;
  /** Re-fetches `[gpa, gpa + len)` from the authoritative copy (a no-op where there is none). */
  load(gpa: number, len: number): Promise<void>;
}

/** True when `[gpa, gpa + len)` lies in `[0, size)`; written to be overflow-proof. */
export function rangeInside(gpa: number, len: number, size: number): boolean {
  return (
    Number.isSafeInteger(gpa) &&
    Number.isSafeInteger(len) &&
    gpa >= 0 &&
    len >= 0 &&
    // gpa <= size and len <= size - gpa cannot overflow, unlike gpa + len <= size.
    gpa <= size &&
    len <= size - gpa
  );
}

/** Shared typed little-endian accessors over an implementation's `read` / `write`. */
export abstract class GuestRamBase implements GuestRam {
  abstract readonly size: number;
  abstract read(gpa: number, len: number): Uint8Array;
  abstract write(gpa: number, bytes: Uint8Array): void;
  abstract flush(): Promise<void>;
  abstract load(gpa: number, len: number): Promise<void>;

  /** Nothing to write back by default (memory that is itself the authoritative copy). */
  takeWrites(): PendingWrites | null {
    return null;
  }

  /** Throws `outOfBounds` unless the range is inside guest memory. */
  protected check(gpa: number, len: number): void {
    if (!rangeInside(gpa, len, this.size)) {
      throw new GuestRamError(
        GuestRamErrorKind.outOfBounds,
        `guest memory access [${gpa}, +${len}) outside [0, ${this.size})`,
      );
    }
  }

  contains(gpa: number, len: number): boolean {
    return rangeInside(gpa, len, this.size);
  }

  fill(gpa: number, len: number, value = 0): void {
    this.check(gpa, len);
    this.write(gpa, new Uint8Array(len).fill(value));
  }

  #view(gpa: number, len: number): DataView {
    const b = this.read(gpa, len);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  readU8(gpa: number): number {
    return this.#view(gpa, 1).getUint8(0);
  }
  readU16(gpa: number): number {
    return this.#view(gpa, 2).getUint16(0, true);
  }
  readU32(gpa: number): number {
    return this.#view(gpa, 4).getUint32(0, true);
  }
  readU64(gpa: number): bigint {
    return this.#view(gpa, 8).getBigUint64(0, true);
  }

  #store(gpa: number, len: number, set: (view: DataView) => void): void {
    const b = new Uint8Array(len);
    set(new DataView(b.buffer));
    this.write(gpa, b);
  }

  writeU8(gpa: number, value: number): void {
    this.#store(gpa, 1, (v) => {
      v.setUint8(0, value);
    });
  }
  writeU16(gpa: number, value: number): void {
    this.#store(gpa, 2, (v) => {
      v.setUint16(0, value, true);
    });
  }
  writeU32(gpa: number, value: number): void {
    this.#store(gpa, 4, (v) => {
      v.setUint32(0, value, true);
    });
  }
  writeU64(gpa: number, value: bigint): void {
    this.#store(gpa, 8, (v) => {
      v.setBigUint64(0, value, true);
    });
  }
}
