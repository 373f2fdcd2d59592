// SPDX-License-Identifier: Apache-2.0
/**
 * Reading what guests log about themselves: `hmx guest` writes a JSON "guest stats" record
 * (received, lost, duplicates, reordered, sent, …) that the end-to-end tests assert on.
 */
import type { TestProcess } from "./processes.js";

/** One JSON log record, e.g. a "guest stats" line. */
export type GuestStats = Record<string, unknown>;

/**
 * A numeric field of a record, NaN when it is absent or not a number (so any comparison with
 * a missing figure fails instead of passing on `undefined`).
 */
export function num(stats: GuestStats | undefined, key: string): number {
  const v = stats?.[key];
  return typeof v === "number" ? v : Number.NaN;
}

/** Waits until the process logged a "guest stats" record satisfying `predicate`. */
export function statsWhere(
  p: TestProcess,
  predicate: (s: GuestStats) => boolean,
  timeoutMs: number,
  what: string,
): Promise<GuestStats> {
  return p.waitFor((r) => r.msg === "guest stats" && predicate(r), timeoutMs, what);
}
