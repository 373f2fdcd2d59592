// SPDX-License-Identifier: Apache-2.0
/**
 * A domain's guest-physical memory: `sizeBytes` of 4 KiB pages held by the hypervisor, the
 * stand-in for the RAM Xen gives a domain. Pages are materialised lazily (on first write or when
 * a ring pins them) and zero-filled, so an idle domain costs a few objects and a page never
 * exposes another domain's data. The whole size is reserved from the shared `MemoryQuota` when
 * the memory is made and returned by `release()`: materialising a page is then only an
 * allocation, never a question of budget, so no other domain's use can make it fail. Bounds are
 * checked before anything is touched: an access with any byte outside memory fails as a whole,
 * like `copy_from_guest` / `guest_handle_okay` in argo.c, and writes nothing.
 *
 * Addresses and lengths may arrive as `Infinity` or other non-integers (the gRPC adapter maps
 * u64 values above 2^53 to Infinity): anything that is not a safe integer in range is out of
 * bounds.
 */
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";

import { crc32Of } from "../crc32.js";
import type { MemoryQuota } from "./memory-quota.js";

/** What an unwritten page reads as, for `crc32` (never written). */
const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);

/** Result of `GuestMemory.write`: `efault` = some byte outside memory. */
export type GuestWriteResult = "ok" | "efault";

/** Result of `GuestMemory.pinPages` when it fails (-EINVAL in register_ring). */
export type PinFailure = "einval";

/** The guest-physical memory of one domain. */
export class GuestMemory {
  readonly #sizeBytes: number;
  readonly #pageCount: number;
  readonly #quota: MemoryQuota;
  /** Materialised pages by gfn. A gfn absent here reads as zeros. */
  readonly #pages = new Map<number, Buffer>();
  #released = false;

  /**
   * Reserves `sizeBytes` from `quota` for the life of this memory. Throws
   * `MemoryQuotaExhaustedError` (nothing reserved) when the quota cannot hold it.
   * @param sizeBytes a positive multiple of PAGE_SIZE (the registry validates it first).
   * @param quota the hypervisor-wide budget the whole size is reserved from.
   */
  constructor(sizeBytes: number, quota: MemoryQuota) {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE !== 0) {
      throw new RangeError(
        `guest memory size must be a positive multiple of ${PAGE_SIZE}, got ${String(sizeBytes)}`,
      );
    }
    quota.reserve(sizeBytes);
    this.#sizeBytes = sizeBytes;
    this.#pageCount = sizeBytes / PAGE_SIZE;
    this.#quota = quota;
  }

  /** Configured size in bytes (0 once released). */
  get sizeBytes(): number {
    return this.#released ? 0 : this.#sizeBytes;
  }

  /** Configured size in pages (0 once released). */
  get pageCount(): number {
    return this.#released ? 0 : this.#pageCount;
  }

  /** Bytes actually materialised: at most `sizeBytes`, all within the reservation. */
  get residentBytes(): number {
    return this.#pages.size * PAGE_SIZE;
  }

  /**
   * Whether `[gpa, gpa + length)` lies inside memory. A zero-length range is inside when `gpa`
   * is in `[0, sizeBytes]`. Both values must be safe integers; `gpa + length` then stays below
   * 2^54, which doubles represent exactly, so the compare cannot be fooled by rounding.
   */
  contains(gpa: number, length: number): boolean {
    return (
      Number.isSafeInteger(gpa) &&
      Number.isSafeInteger(length) &&
      gpa >= 0 &&
      length >= 0 &&
      gpa + length <= this.sizeBytes
    );
  }

  /**
   * Copies `length` bytes at `gpa` out into a new Buffer, or returns null when some byte lies
   * outside memory (the caller's -EFAULT). Unwritten pages read as zeros and stay unmaterialised.
   */
  read(gpa: number, length: number): Buffer | null {
    if (!this.contains(gpa, length)) return null;
    const out = Buffer.allocUnsafe(length);
    this.copyOut(gpa, length, out, 0);
    return out;
  }

  /**
   * Copies `length` bytes at `gpa` into `target[targetOffset..]`, page by page, without
   * allocating. Precondition: `contains(gpa, length)` and `target` has room; the sendv hot
   * path checks bounds once for the whole iov and then calls this per destination chunk.
   */
  copyOut(gpa: number, length: number, target: Buffer, targetOffset: number): void {
    let done = 0;
    while (done < length) {
      const addr = gpa + done;
      // addr < sizeBytes <= 2^53, so the division is exact for the page index.
      const gfn = Math.floor(addr / PAGE_SIZE);
      const offset = addr - gfn * PAGE_SIZE;
      const chunk = Math.min(PAGE_SIZE - offset, length - done);
      const page = this.#pages.get(gfn);
      if (page === undefined) {
        target.fill(0, targetOffset + done, targetOffset + done + chunk);
      } else {
        page.copy(target, targetOffset + done, offset, offset + chunk);
      }
      done += chunk;
    }
  }

  /**
   * The CRC-32 of `length` bytes at `gpa`, continuing from `crc` (crc32.ts: zlib's chaining),
   * read in place page by page; unwritten pages count as zeros and stay unmaterialised. The
   * history digests every sendv's payload: gathering it into a scratch buffer first cost a
   * native copy per message, about what the CRC of a short one costs. Precondition:
   * `contains(gpa, length)`.
   */
  crc32(gpa: number, length: number, crc: number): number {
    let done = 0;
    while (done < length) {
      const addr = gpa + done;
      const gfn = Math.floor(addr / PAGE_SIZE);
      const offset = addr - gfn * PAGE_SIZE;
      const chunk = Math.min(PAGE_SIZE - offset, length - done);
      crc = crc32Of(this.#pages.get(gfn) ?? ZERO_PAGE, offset, offset + chunk, crc);
      done += chunk;
    }
    return crc;
  }

  /**
   * Writes `data` at `gpa`, all or nothing: bounds are checked before any byte is written, and
   * the pages it needs are already paid for by the reservation.
   */
  write(gpa: number, data: Uint8Array): GuestWriteResult {
    const length = data.byteLength;
    if (!this.contains(gpa, length)) return "efault";
    if (length === 0) return "ok";
    const firstGfn = Math.floor(gpa / PAGE_SIZE);
    const lastGfn = Math.floor((gpa + length - 1) / PAGE_SIZE);
    // A Buffer view over the caller's bytes (no copy) so Buffer.copy can move each page chunk.
    const source = Buffer.from(data.buffer, data.byteOffset, length);
    let done = 0;
    for (let gfn = firstGfn; gfn <= lastGfn; gfn++) {
      const page = this.#residentOrNew(gfn);
      const offset = gfn === firstGfn ? gpa - firstGfn * PAGE_SIZE : 0;
      const chunk = Math.min(PAGE_SIZE - offset, length - done);
      source.copy(page, offset, done, done + chunk);
      done += chunk;
    }
    return "ok";
  }

  /**
   * Materialises and returns the pages backing a ring, in the order given (the same gfn may
   * appear twice; it is then one page mapped twice, as in Xen). A gfn that is not an integer,
   * lies outside memory or below FIRST_GUEST_GFN (platform-reserved) is "einval" (Xen: not a
   * RAM page), and then nothing is materialised. The pages are the domain's own, reserved at
   * creation, so there is no -ENOMEM. The returned Buffers stay valid (and are the very pages
   * guest reads and writes see) until `release()`.
   */
  pinPages(gfns: readonly number[]): Buffer[] | PinFailure {
    const pageCount = this.pageCount;
    for (const gfn of gfns) {
      if (!Number.isSafeInteger(gfn) || gfn < FIRST_GUEST_GFN || gfn >= pageCount) return "einval";
    }
    return gfns.map((gfn) => this.#residentOrNew(gfn));
  }

  /** The materialised pages, by gfn, in materialisation order (`--state-dir` snapshots). */
  residentPages(): IterableIterator<[number, Buffer]> {
    return this.#pages.entries();
  }

  /** Whether page `gfn` is materialised (for tests and metrics). */
  isResident(gfn: number): boolean {
    return this.#pages.has(gfn);
  }

  /**
   * Drops every page, returns the whole reservation to the quota and makes the memory empty
   * (size 0): used when the domain is destroyed, after Argo teardown has dropped every ring that
   * pinned these pages. Idempotent.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#quota.release(this.#sizeBytes);
    this.#pages.clear();
  }

  /** The page at `gfn`, materialising it zero-filled (the reservation already covers it). */
  #residentOrNew(gfn: number): Buffer {
    let page = this.#pages.get(gfn);
    if (page === undefined) {
      page = Buffer.alloc(PAGE_SIZE);
      this.#pages.set(gfn, page);
    }
    return page;
  }
}
