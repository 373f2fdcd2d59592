// SPDX-License-Identifier: Apache-2.0
/**
 * The hypervisor-wide cap on materialised guest memory. Guest memory is allocated lazily, page
 * by page (see `GuestMemory`), so a domain's configured size is only a ceiling; this quota is
 * what bounds the service's real footprint across every domain. Xen has no direct equivalent:
 * its domains own real RAM up front. Failing to reserve here is what makes ring registration
 * `-ENOMEM` (argo.c's allocation failures) and Read/WriteMemory `RESOURCE_EXHAUSTED`.
 */

/** A byte budget shared by every domain's `GuestMemory`. */
export class MemoryQuota {
  readonly #limitBytes: number;
  #usedBytes = 0;

  /** @param limitBytes the most bytes that may be materialised at once; a non-negative safe integer. */
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

  get usedBytes(): number {
    return this.#usedBytes;
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

  /** Returns `bytes` reserved earlier. Releasing more than is in use is a bug and throws. */
  release(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > this.#usedBytes) {
      throw new RangeError(`cannot release ${String(bytes)} bytes: ${this.#usedBytes} in use`);
    }
    this.#usedBytes -= bytes;
  }
}
