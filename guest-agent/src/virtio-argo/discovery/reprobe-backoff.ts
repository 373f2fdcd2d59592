// SPDX-License-Identifier: Apache-2.0
/**
 * The pause before a failed front-end device is probed again (docs/virtio-argo.md "Recovery"):
 * `minMs` after the first failure, doubling after each failed re-probe, never more than
 * `maxMs` — so a back end that restarts is found again within about `maxMs` of answering,
 * and one that never comes back costs one probe per `maxMs`, forever, and nothing more.
 */

export interface ReprobeBackoff {
  /** First pause (default 500 ms). */
  readonly minMs: number;
  /** Largest pause (default 10 000 ms). */
  readonly maxMs: number;
}

export const DEFAULT_REPROBE_BACKOFF: ReprobeBackoff = { minMs: 500, maxMs: 10_000 };

/**
 * The pause before re-probe number `attempt` (1 = the first re-probe after a failure). Throws
 * `RangeError` naming the bad value for an attempt below 1 or a backoff that is not
 * 0 < minMs <= maxMs (finite).
 */
export function reprobeDelayMs(
  attempt: number,
  b: ReprobeBackoff = DEFAULT_REPROBE_BACKOFF,
): number {
  checkReprobeBackoff(b);
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new RangeError(`re-probe attempt must be an integer >= 1, got ${attempt}`);
  // Doubling stops at maxMs long before 2^attempt could overflow: clamp the exponent.
  return Math.min(b.maxMs, b.minMs * 2 ** Math.min(attempt - 1, 40));
}

/** Throws `RangeError` unless 0 < minMs <= maxMs, both finite. */
export function checkReprobeBackoff(b: ReprobeBackoff): void {
  if (!Number.isFinite(b.minMs) || b.minMs <= 0)
    throw new RangeError(`re-probe minMs must be a positive number, got ${b.minMs}`);
  if (!Number.isFinite(b.maxMs) || b.maxMs < b.minMs)
    throw new RangeError(`re-probe maxMs must be a number >= minMs (${b.minMs}), got ${b.maxMs}`);
}
