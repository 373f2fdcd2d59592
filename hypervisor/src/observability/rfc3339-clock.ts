// SPDX-License-Identifier: Apache-2.0
/**
 * Event times as RFC 3339 with nanoseconds (`2026-12-03T12:00:00.123456789Z`): the monotonic
 * `process.hrtime.bigint()` anchored once to `Date.now()`, so times never go backwards within a
 * run (a wall-clock step does not reorder the history) and carry the full resolution. The
 * seconds prefix is cached: formatting costs a little BigInt arithmetic and one string concat.
 */
const NS_PER_S = 1_000_000_000n;

export class Rfc3339Clock {
  readonly #anchorHr: bigint;
  readonly #anchorNs: bigint;
  #cachedSecond = -1n;
  #cachedPrefix = "";

  constructor(nowMs: number = Date.now(), hrNow: bigint = process.hrtime.bigint()) {
    this.#anchorHr = hrNow;
    this.#anchorNs = BigInt(nowMs) * 1_000_000n;
  }

  /** Nanoseconds since the epoch for an `hrtime.bigint()` reading. */
  epochNs(hr: bigint = process.hrtime.bigint()): bigint {
    return this.#anchorNs + (hr - this.#anchorHr);
  }

  /** RFC 3339 UTC with nine fractional digits. */
  format(epochNs: bigint): string {
    const second = epochNs / NS_PER_S;
    if (second !== this.#cachedSecond) {
      this.#cachedSecond = second;
      // toISOString gives "YYYY-MM-DDTHH:MM:SS.mmmZ"; keep up to the seconds.
      this.#cachedPrefix = new Date(Number(second) * 1000).toISOString().slice(0, 19);
    }
    return `${this.#cachedPrefix}.${String(epochNs % NS_PER_S).padStart(9, "0")}Z`;
  }

  now(): string {
    return this.format(this.epochNs());
  }
}
