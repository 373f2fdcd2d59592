// SPDX-License-Identifier: Apache-2.0
/**
 * The benchmark's arithmetic, kept pure so that it is unit-tested (`stats.test.ts`):
 * nearest-rank percentiles over latency samples, throughput from a message count and a time
 * window, the hmx / baseline ratio, and Jain's fairness index across concurrent pairs.
 */

/** Percentiles and extremes of a sample set, in the samples' unit. */
export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** The middle value (the upper one of an even count); 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * The p-th percentile (0 < p <= 100) of ascending `sorted` by the nearest-rank method: the
 * smallest sample such that at least p % of the samples are <= it. NaN for no samples.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is not in (0, 100]`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** Summarises `samples` (any order; not modified). */
export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: n === 0 ? Number.NaN : (sorted[0] ?? Number.NaN),
    mean: n === 0 ? Number.NaN : sum / n,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: n === 0 ? Number.NaN : (sorted[n - 1] ?? Number.NaN),
  };
}

/** Messages per second and payload MB/s (10^6 bytes) of `count` messages of `size` in `ms`. */
export function throughput(
  count: number,
  size: number,
  ms: number,
): { msgsPerSec: number; mbPerSec: number } {
  if (!(ms > 0)) return { msgsPerSec: Number.NaN, mbPerSec: Number.NaN };
  const msgsPerSec = (count * 1000) / ms;
  return { msgsPerSec, mbPerSec: (msgsPerSec * size) / 1e6 };
}

/** hmx / baseline; NaN when the baseline is not a positive number. */
export function ratio(hmx: number, baseline: number): number {
  return baseline > 0 && Number.isFinite(hmx) ? hmx / baseline : Number.NaN;
}

/**
 * Jain's fairness index of `shares` (e.g. msgs/s per sender/receiver pair): (Σx)² / (n · Σx²).
 * 1 when every share is equal, 1/n when one gets everything; a share twice the others' barely
 * moves it (≈0.98 of 50 pairs). Shares must be finite and >= 0, and not all 0.
 */
export function jainIndex(shares: readonly number[]): number {
  if (shares.length === 0) throw new RangeError("Jain's index of no shares");
  let sum = 0;
  let squares = 0;
  for (const [i, x] of shares.entries()) {
    if (!(Number.isFinite(x) && x >= 0)) {
      throw new RangeError(`Jain's index: share ${i} is ${x}; shares must be finite and >= 0`);
    }
    sum += x;
    squares += x * x;
  }
  if (squares === 0) throw new RangeError("Jain's index: every share is 0");
  return (sum * sum) / (shares.length * squares);
}
