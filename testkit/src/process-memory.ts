// SPDX-License-Identifier: Apache-2.0
/**
 * How much memory another process holds, from Linux's /proc: what a hostile-peer test or bench
 * reads off the hypervisor process while it is attacked. `resetPeak` starts a new peak window
 * (writing 5 to clear_refs resets VmHWM, Linux 4.0+), so "peak growth during the attack" is
 * `peakRssBytes` after the attack minus `rssBytes` before it.
 */
import { readFileSync, writeFileSync } from "node:fs";

export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  rssBytes: number;
  /** The highest resident set size since start or the last `resetPeak` (VmHWM). */
  peakRssBytes: number;
}

export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
    if (m === null) throw new Error(`/proc/${pid}/status has no ${field} line`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kib("VmRSS"), peakRssBytes: kib("VmHWM") };
}

/** Starts a new peak window for `pid` (VmHWM becomes the current VmRSS). */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}
