// SPDX-License-Identifier: Apache-2.0
/**
 * `DmaAllocator`: the driver's allocator for memory the device will see — virtqueue areas
 * (VirtIO 1.2 §2.7: descriptor table 16-aligned, driver area 2-aligned, device area 4-aligned),
 * indirect descriptor tables and request buffers — inside one region of the guest's `GuestRam`
 * (what `dma_alloc_coherent` is to a Linux driver). The region is chosen by whoever builds the
 * transport (a page run from libargo's `PageAllocator`, or a span of an `InMemoryGuestRam`).
 *
 * First fit over a sorted, coalesced free list, with per-allocation alignment. Drivers allocate
 * their rings once and recycle request buffers, so simplicity beats a slab here.
 */

/** The region has no free extent large enough. */
export class DmaAllocationError extends Error {
  override readonly name = "DmaAllocationError";
}

interface Extent {
  start: number;
  len: number;
}

/** First-fit allocator over guest-physical `[base, base + size)`. */
export class DmaAllocator {
  readonly base: number;
  readonly size: number;
  readonly #free: Extent[];
  readonly #live = new Map<number, Extent>();

  constructor(base: number, size: number) {
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size <= 0) {
      throw new RangeError(`bad dma region [${base}, +${size})`);
    }
    this.base = base;
    this.size = size;
    this.#free = [{ start: base, len: size }];
  }

  /** Bytes currently free. */
  get freeBytes(): number {
    return this.#free.reduce((n, e) => n + e.len, 0);
  }

  /** Allocates `len` bytes aligned to `align` (a power of two); returns the gpa. */
  alloc(len: number, align = 16): number {
    if (!Number.isSafeInteger(len) || len <= 0) throw new RangeError(`bad dma length ${len}`);
    if (align <= 0 || (align & (align - 1)) !== 0) throw new RangeError(`bad alignment ${align}`);
    for (let i = 0; i < this.#free.length; i++) {
      const e = this.#free[i];
      if (e === undefined) continue;
      const start = Math.ceil(e.start / align) * align;
      const pad = start - e.start;
      if (pad + len > e.len) continue;
      // Split the extent into [e.start, start) and [start + len, e.end).
      const tail = { start: start + len, len: e.len - pad - len };
      const parts = [
        ...(pad > 0 ? [{ start: e.start, len: pad }] : []),
        ...(tail.len > 0 ? [tail] : []),
      ];
      this.#free.splice(i, 1, ...parts);
      this.#live.set(start, { start, len });
      return start;
    }
    throw new DmaAllocationError(
      `no free dma extent of ${len} bytes (align ${align}); ${this.freeBytes} bytes free`,
    );
  }

  /** Returns an allocation made by `alloc`. */
  free(gpa: number): void {
    const ext = this.#live.get(gpa);
    if (ext === undefined) throw new RangeError(`dma free of ${gpa}: not an allocation`);
    this.#live.delete(gpa);
    let i = this.#free.findIndex((e) => e.start > ext.start);
    if (i < 0) i = this.#free.length;
    this.#free.splice(i, 0, { ...ext });
    // Coalesce with the neighbours.
    const next = this.#free[i + 1];
    const cur = this.#free[i];
    if (cur !== undefined && next?.start === cur.start + cur.len) {
      cur.len += next.len;
      this.#free.splice(i + 1, 1);
    }
    const prev = this.#free[i - 1];
    if (cur !== undefined && prev?.start !== undefined && prev.start + prev.len === cur.start) {
      prev.len += cur.len;
      this.#free.splice(i, 1);
    }
  }
}
