// SPDX-License-Identifier: Apache-2.0
/**
 * Event times as RFC 3339 with nanoseconds (`2026-12-03T12:00:00.123456789Z`): the monotonic
 * high-resolution clock (`performance.now()`, which Node derives from `process.hrtime`) anchored
 * once to `Date.now()`, so times never go backwards within a run (a wall-clock step does not
 * reorder the history). Arithmetic stays in doubles: nanoseconds since the anchor are exact
 * integers for 104 days, and a BigInt per event cost more than the rest of the formatting. The
 * seconds prefix is cached.
 */
import { performance } from "node:perf_hooks";
import { putU32 } from "./record-views.js";

const NS_PER_S = 1e9;
const U32 = 4294967296;

export class Rfc3339Clock {
  /** Whole epoch seconds and the nanoseconds past them at the anchor. */
  readonly #anchorSecond: number;
  readonly #anchorNs: number;
  /** `performance.now()` at the anchor, in ns. */
  readonly #anchorMono: number;
  #cachedSecond = -1;
  #cachedPrefix = "";
  /** `#cachedPrefix` as bytes, for `writeTo`. */
  readonly #prefixBytes = Buffer.alloc(19);
  /** The second `#epochLo`/`#epochHi` hold in nanoseconds since the epoch (`writeEpochNs`). */
  #epochSecond = -1;
  #epochLo = 0;
  #epochHi = 0;

  constructor(nowMs: number = Date.now(), monoMs: number = performance.now()) {
    this.#anchorSecond = Math.floor(nowMs / 1000);
    this.#anchorNs = Math.round((nowMs - this.#anchorSecond * 1000) * 1e6);
    this.#anchorMono = Math.round(monoMs * 1e6);
  }

  /** RFC 3339 UTC with nine fractional digits for a `performance.now()` reading. */
  format(monoMs: number): string {
    const ns = this.#split(monoMs);
    return `${this.#cachedPrefix}.${String(ns).padStart(9, "0")}Z`;
  }

  /**
   * `format` written as ASCII into `out` at `pos` (returns the position after): the history
   * renders hot events straight into bytes, with no string per event.
   */
  writeTo(monoMs: number, out: Buffer, pos: number): number {
    // Below 10^9, so small-integer arithmetic holds it exactly.
    let ns = this.#split(monoMs) | 0;
    const prefix = this.#prefixBytes;
    for (let i = 0; i < prefix.length; i++) out[pos + i] = prefix[i] ?? 0;
    pos += prefix.length;
    out[pos] = 0x2e; // "."
    for (let i = 9; i >= 1; i--) {
      const q = (ns / 10) | 0;
      out[pos + i] = 0x30 + ns - q * 10;
      ns = q;
    }
    out[pos + 10] = 0x5a; // "Z"
    return pos + 11;
  }

  /**
   * The same instant as integer nanoseconds since the epoch, written as a little-endian u64 at
   * `pos` in `out` (the history's binary format); returns the position after. The second's
   * count is computed once per second (`#epochSecondNs`); within it, adding the nanoseconds to
   * the low word is one add and a carry.
   */
  writeEpochNs(monoMs: number, out: Buffer, pos: number): number {
    const ns = this.#split(monoMs);
    if (this.#epochSecond !== this.#cachedSecond) this.#epochSecondNs(this.#cachedSecond);
    let lo = this.#epochLo + ns;
    let hi = this.#epochHi;
    if (lo >= U32) {
      lo -= U32;
      hi++;
    }
    return putU32(out, putU32(out, pos, lo), hi);
  }

  /**
   * `second` × 10^9 as two u32 words, in 16-bit limbs so that every step is an exact double
   * (the count is near 2^61).
   */
  #epochSecondNs(second: number): void {
    const secondHigh = Math.floor(second / 65536);
    const low = (second - secondHigh * 65536) * NS_PER_S;
    const high = secondHigh * NS_PER_S;
    // second × 10^9 = high × 2^16 + low
    const low48 = (high % 65536) * 65536 + low;
    this.#epochLo = low48 % U32;
    this.#epochHi = Math.floor(high / 65536) + (low48 - this.#epochLo) / U32;
    this.#epochSecond = second;
  }

  /** Nanoseconds past the second of a `performance.now()` reading; caches that second's prefix. */
  #split(monoMs: number): number {
    const sinceAnchor = this.#anchorNs + Math.round(monoMs * 1e6) - this.#anchorMono;
    const carry = Math.floor(sinceAnchor / NS_PER_S);
    const second = this.#anchorSecond + carry;
    if (second !== this.#cachedSecond) {
      this.#cachedSecond = second;
      // toISOString gives "YYYY-MM-DDTHH:MM:SS.mmmZ"; keep up to the seconds.
      this.#cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
      this.#prefixBytes.write(this.#cachedPrefix, "latin1");
    }
    return sinceAnchor - carry * NS_PER_S;
  }

  now(): string {
    return this.format(performance.now());
  }
}
