// SPDX-License-Identifier: Apache-2.0
/**
 * Finds processes still alive that carry a marker in their environment: a test gives the
 * process it starts a unique `HMX_TEST_MARKER`, every descendant inherits it, and afterwards
 * this lists any that survived ("no process left behind"). Linux /proc only.
 */
import { readdirSync, readFileSync } from "node:fs";

export function processesWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1");
      if (environ.split("\0").includes(`HMX_TEST_MARKER=${marker}`)) pids.push(Number(entry));
    } catch {
      // The process exited while we looked, or is not ours to read.
    }
  }
  return pids;
}
