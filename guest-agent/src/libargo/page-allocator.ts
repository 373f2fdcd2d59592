// SPDX-License-Identifier: Apache-2.0
/**
 * The guest's physical page allocator: hands out contiguous runs of gfns from the guest's own
 * memory for receive rings (argo-spec §4.1: a ring is `npage` pages given as gfns in order) and
 * for the send staging buffers whose bytes sendv's iovs point at (§3.4). Contiguity is not
 * required by Argo, but it lets libargo read or write a whole ring, or stage a whole batch of
 * payloads, with one ReadMemory / WriteMemory.
 *
 * gfns below `FIRST_GUEST_GFN` (16) are reserved for the platform (DESIGN.md §3.2) and are never
 * handed out. First fit over a sorted, coalesced free list: the agent allocates a few dozen runs
 * in its lifetime, so simplicity beats a buddy allocator here.
 */
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";

/** A contiguous run of guest pages. */
export interface PageRun {
  /** First gfn of the run. */
  readonly gfn: number;
  /** Number of pages. */
  readonly npages: number;
  /** Guest-physical address of the first byte (`gfn * PAGE_SIZE`). */
  readonly gpa: number;
  /** Size in bytes (`npages * PAGE_SIZE`). */
  readonly bytes: number;
}

/** The allocator has no free run of the requested length. */
export class OutOfGuestMemoryError extends Error {
  override readonly name = "OutOfGuestMemoryError";
  constructor(
    readonly requestedPages: number,
    readonly freePages: number,
    readonly largestFreeRun: number,
  ) {
    super(
      `out of guest memory: no run of ${requestedPages} contiguous pages ` +
        `(${freePages} pages free, largest run ${largestFreeRun})`,
    );
  }
}

interface FreeExtent {
  gfn: number;
  npages: number;
}

/** Lists the gfns of a run in order, as `registerRing` wants them. */
export function gfnsOf(run: PageRun): number[] {
  return Array.from({ length: run.npages }, (_, i) => run.gfn + i);
}

/** First-fit allocator of contiguous gfn runs in [firstGfn, memoryBytes / 4096). */
export class PageAllocator {
  /** Sorted by gfn, never adjacent (coalesced on free), never empty extents. */
  readonly #free: FreeExtent[] = [];
  /** Live runs by first gfn, so that free() can check what it is given. */
  readonly #allocated = new Map<number, number>();
  readonly firstGfn: number;
  /** One past the last gfn of guest memory. */
  readonly endGfn: number;

  constructor(options: { readonly memoryBytes: number; readonly firstGfn?: number }) {
    const firstGfn = options.firstGfn ?? FIRST_GUEST_GFN;
    if (!Number.isSafeInteger(firstGfn) || firstGfn < FIRST_GUEST_GFN) {
      // The platform owns gfns 0-15 (ACPI table, agent state); a guest allocator below them
      // would hand the same page to two owners.
      throw new RangeError(`firstGfn must be an integer >= ${FIRST_GUEST_GFN}, got ${firstGfn}`);
    }
    if (!Number.isSafeInteger(options.memoryBytes) || options.memoryBytes < 0) {
      throw new RangeError(
        `memoryBytes must be a non-negative integer, got ${options.memoryBytes}`,
      );
    }
    this.firstGfn = firstGfn;
    this.endGfn = Math.floor(options.memoryBytes / PAGE_SIZE);
    if (this.endGfn > firstGfn) this.#free.push({ gfn: firstGfn, npages: this.endGfn - firstGfn });
  }

  /** Pages currently free. */
  get freePages(): number {
    return this.#free.reduce((sum, e) => sum + e.npages, 0);
  }

  /** Length of the longest free run. */
  get largestFreeRun(): number {
    return this.#free.reduce((max, e) => Math.max(max, e.npages), 0);
  }

  /** Allocates `npages` contiguous pages; throws `OutOfGuestMemoryError` when none fit. */
  allocate(npages: number): PageRun {
    if (!Number.isSafeInteger(npages) || npages < 1) {
      throw new RangeError(`npages must be a positive integer, got ${npages}`);
    }
    const index = this.#free.findIndex((e) => e.npages >= npages);
    const extent = this.#free[index];
    if (extent === undefined) {
      throw new OutOfGuestMemoryError(npages, this.freePages, this.largestFreeRun);
    }
    const gfn = extent.gfn;
    if (extent.npages === npages) this.#free.splice(index, 1);
    else {
      extent.gfn += npages;
      extent.npages -= npages;
    }
    this.#allocated.set(gfn, npages);
    return runOf(gfn, npages);
  }

  /**
   * Takes the specific run [gfn, gfn + npages) — a resumed agent's ring, whose pages it must get
   * back exactly. Throws RangeError if any of those pages is not free.
   */
  reserve(gfn: number, npages: number): PageRun {
    const index = this.#free.findIndex((e) => e.gfn <= gfn && gfn + npages <= e.gfn + e.npages);
    const extent = this.#free[index];
    if (extent === undefined || !Number.isSafeInteger(npages) || npages < 1) {
      throw new RangeError(`pages ${gfn}..${gfn + npages - 1} are not free to reserve`);
    }
    // Split the free extent around the reserved run.
    const before = { gfn: extent.gfn, npages: gfn - extent.gfn };
    const after = { gfn: gfn + npages, npages: extent.gfn + extent.npages - (gfn + npages) };
    this.#free.splice(index, 1, ...[before, after].filter((e) => e.npages > 0));
    this.#allocated.set(gfn, npages);
    return runOf(gfn, npages);
  }

  /** Returns a run to the free list; the run must be one `allocate` returned and not yet freed. */
  free(run: PageRun): void {
    const npages = this.#allocated.get(run.gfn);
    if (npages !== run.npages) {
      // A double free or a foreign run would let two owners share pages: fail loudly.
      throw new Error(`free of a run that is not allocated: gfn ${run.gfn}, ${run.npages} pages`);
    }
    this.#allocated.delete(run.gfn);
    // Insert sorted, then merge neighbours so that large runs come back.
    let i = this.#free.findIndex((e) => e.gfn > run.gfn);
    if (i === -1) i = this.#free.length;
    this.#free.splice(i, 0, { gfn: run.gfn, npages });
    const merged: FreeExtent[] = [];
    for (const e of this.#free) {
      const last = merged.at(-1);
      if (last !== undefined && last.gfn + last.npages === e.gfn) last.npages += e.npages;
      else merged.push(e);
    }
    this.#free.splice(0, this.#free.length, ...merged);
  }
}

/** The run of `npages` pages starting at `gfn`. */
export function runOf(gfn: number, npages: number): PageRun {
  // Multiplication, not `gfn << PAGE_SHIFT`: a shift overflows int32 above 2 GiB of memory.
  return { gfn, npages, gpa: gfn * PAGE_SIZE, bytes: npages * PAGE_SIZE };
}
