// SPDX-License-Identifier: Apache-2.0
/** Durations as `hmx chaos` and schedules write them: "500ms", "1.5s", "2m". */
import { UsageError } from "../commands/control.js";

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };
const MAX_MS = 2 ** 31 - 1;

/** "500ms", "5s", "2m" in milliseconds, or UsageError naming the flag and value. */
export function parseDuration(flag: string, value: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value ?? "");
  const ms = match === null ? NaN : Math.round(Number(match[1]) * (UNITS[match[2] ?? ""] ?? NaN));
  if (!(ms >= 0 && ms <= MAX_MS))
    throw new UsageError(
      `${flag} ${JSON.stringify(value ?? "")}: expected a duration like 500ms, 5s or 2m (at most ${MAX_MS} ms)`,
    );
  return ms;
}
