// SPDX-License-Identifier: Apache-2.0
/**
 * The hypervisor-wide budget of guest memory (`--max-total-memory`). Every domain reserves its
 * whole configured size here when it is created and gives it back when it is destroyed, as Xen
 * gives a domain its RAM up front (`domain_create` fails when the host has too little free). A
 * domain can only ever materialise pages inside its own memory, so what one domain does with
 * its memory never takes anything another was promised, and the service's real footprint stays
 * under the limit however hard every domain touches its pages. Reserving is only accounting:
 * pages are still materialised lazily (see `GuestMemory`). docs/memory-accounting.md has the
 * model and why it was chosen over overcommit.
 */

const MiB = 1024 * 1024;

/** A byte count as "67108864 bytes (64 MiB)": exact for checking, readable for the operator. */
export function describeBytes(bytes: number): string {
  return `${bytes} bytes (${Number((bytes / MiB).toFixed(2))} MiB)`;
}

/**
 * A reservation the budget cannot honour. The message names the bytes asked for, what is left
 * and the flag that sets the total, so the operator knows what to shrink or raise.
 */
export class MemoryQuotaExhaustedError extends Error {
  override readonly name = "MemoryQuotaExhaustedError";
  constructor(
    /** The bytes asked for. */
    readonly requestedBytes: number,
    /** The bytes still unreserved when it was asked. */
    readonly availableBytes: number,
    /** The whole budget. */
    readonly limitBytes: number,
  ) {
    super(
      `cannot reserve ${describeBytes(requestedBytes)} of guest memory: ` +
        `only ${describeBytes(availableBytes)} of the ${describeBytes(limitBytes)} total are unreserved ` +
        `(every live domain holds its whole memory_bytes; --max-total-memory, env HMX_MAX_TOTAL_MEMORY, sets the total)`,
    );
  }
}

/** A byte budget shared by every domain's `GuestMemory`. */
export class MemoryQuota {
  readonly #limitBytes: number;
  #usedBytes = 0;

  /** @param limitBytes the most bytes that may be reserved at once; a non-negative safe integer. */
  constructor(limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(
        `memory quota limit must be a non-negative safe integer, got ${String(limitBytes)}`,
      );
    }
    this.#limitBytes = limitBytes;
  }

  get limitBytes(): number {
    return this.#limitBytes;
  }

  /** Bytes reserved now. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Bytes still free to reserve. */
  get availableBytes(): number {
    return this.#limitBytes - this.#usedBytes;
  }

  /**
   * Reserves `bytes` if they fit under the limit; returns whether it did. Nothing is reserved on
   * false, so callers can reserve everything an operation needs in one call (all-or-nothing).
   */
  tryReserve(bytes: number): boolean {
    if (!Number.isSafeInteger(bytes) || bytes < 0) return false;
    // Both terms are safe integers <= limit, so the sum cannot lose precision before the compare.
    if (this.#usedBytes + bytes > this.#limitBytes) return false;
    this.#usedBytes += bytes;
    return true;
  }

  /**
   * Reserves `bytes` or, reserving nothing, throws `MemoryQuotaExhaustedError` when they do not
   * fit (a `RangeError` when `bytes` is not a non-negative safe integer: a caller's bug).
   */
  reserve(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`cannot reserve ${String(bytes)} bytes: not a non-negative integer`);
    }
    if (!this.tryReserve(bytes)) {
      throw new MemoryQuotaExhaustedError(bytes, this.availableBytes, this.#limitBytes);
    }
  }

  /** Returns `bytes` reserved earlier. Releasing more than is in use is a bug and throws. */
  release(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > this.#usedBytes) {
      throw new RangeError(`cannot release ${String(bytes)} bytes: ${this.#usedBytes} in use`);
    }
    this.#usedBytes -= bytes;
  }
}
