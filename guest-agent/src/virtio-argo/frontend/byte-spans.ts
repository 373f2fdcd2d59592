// SPDX-License-Identifier: Apache-2.0
/**
 * `ByteSpans`: the byte ranges of one shadow page that are marked (dirty, or written by the
 * device and not yet in the hypervisor), as a short sorted list of disjoint `[lo, hi)` spans.
 *
 * One span per page made a span cover whatever lay between two writes: a blk request's header
 * and its status byte, written around a 4 KiB device-writable buffer on the same page, made
 * every read's kick write that buffer to the hypervisor for nothing. A list keeps them apart.
 * It stays short so marking stays cheap (ring fields are marked one u16 at a time): spans
 * closer than `MERGE_GAP` bytes join (a `WriteMemory` op costs more than a few bytes), and
 * past `MAX_SPANS` the two closest join. Joining only ever covers more bytes, never fewer, so
 * a shadow that writes a joined span back writes bytes equal to the hypervisor's besides.
 */

/** Spans closer than this join: one op for a few extra bytes. */
export const MERGE_GAP = 32;
/** Most spans per page; past it the two closest join. */
export const MAX_SPANS = 8;

export class ByteSpans {
  /** Flat `[lo0, hi0, lo1, hi1, …]`, sorted and disjoint. */
  #s: number[] = [];

  get isEmpty(): boolean {
    return this.#s.length === 0;
  }

  /** Bytes covered. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.#s.length; i += 2) n += (this.#s[i + 1] ?? 0) - (this.#s[i] ?? 0);
    return n;
  }

  /** The spans, in order. */
  *spans(): Generator<readonly [number, number]> {
    for (let i = 0; i < this.#s.length; i += 2) yield [this.#s[i] ?? 0, this.#s[i + 1] ?? 0];
  }

  clear(): void {
    this.#s.length = 0;
  }

  /** Marks `[lo, hi)`; an empty range changes nothing. */
  add(lo: number, hi: number): void {
    if (lo >= hi) return;
    const s = this.#s;
    // The common case: the same or the next field of the last span.
    const n = s.length;
    if (n > 0 && lo >= (s[n - 2] ?? 0) && lo <= (s[n - 1] ?? 0) + MERGE_GAP) {
      if (hi > (s[n - 1] ?? 0)) s[n - 1] = hi;
      return;
    }
    // First span whose end (plus the gap) reaches lo; every span from it that starts within
    // hi + gap joins the new one.
    let i = 0;
    while (i < n && (s[i + 1] ?? 0) + MERGE_GAP < lo) i += 2;
    let j = i;
    let newLo = lo;
    let newHi = hi;
    while (j < n && (s[j] ?? 0) <= hi + MERGE_GAP) {
      newLo = Math.min(newLo, s[j] ?? 0);
      newHi = Math.max(newHi, s[j + 1] ?? 0);
      j += 2;
    }
    s.splice(i, j - i, newLo, newHi);
    while (s.length > 2 * MAX_SPANS) this.#joinClosest();
  }

  /**
   * Unmarks `[lo, hi)` and returns the marked parts it held, in order (what moves elsewhere,
   * e.g. unsynced bytes the device is about to read, which become dirty).
   */
  take(lo: number, hi: number): [number, number][] {
    const out: [number, number][] = [];
    if (lo >= hi || this.#s.length === 0) return out;
    const kept: number[] = [];
    const s = this.#s;
    for (let i = 0; i < s.length; i += 2) {
      const a = s[i] ?? 0;
      const b = s[i + 1] ?? 0;
      if (b <= lo || a >= hi) {
        kept.push(a, b);
        continue;
      }
      out.push([Math.max(a, lo), Math.min(b, hi)]);
      if (a < lo) kept.push(a, lo);
      if (b > hi) kept.push(hi, b);
    }
    this.#s = kept;
    return out;
  }

  #joinClosest(): void {
    const s = this.#s;
    let best = 2;
    for (let i = 4; i < s.length; i += 2) {
      if ((s[i] ?? 0) - (s[i - 1] ?? 0) < (s[best] ?? 0) - (s[best - 1] ?? 0)) best = i;
    }
    // Span best-2..best-1 and best..best+1 become one.
    s.splice(best - 1, 2);
  }
}
