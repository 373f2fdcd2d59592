// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import { processMemory, resetPeak } from "./process-memory.js";

test("processMemory sees a process grow, and resetPeak starts a new peak window", () => {
  const before = processMemory(process.pid);
  assert.ok(before.rssBytes > 0 && before.peakRssBytes >= before.rssBytes);
  let held: Buffer | undefined = Buffer.alloc(64 * 1024 * 1024, 1); // touched, so resident
  const grown = processMemory(process.pid);
  assert.ok(
    grown.peakRssBytes - before.rssBytes >= 48 * 1024 * 1024,
    `peak grew by ${grown.peakRssBytes - before.rssBytes}`,
  );
  assert.equal(held.length, 64 * 1024 * 1024);
  held = undefined;
  resetPeak(process.pid);
  // Right after a reset the peak window holds only the present (the kernel sets VmHWM to VmRSS).
  const after = processMemory(process.pid);
  assert.ok(
    after.peakRssBytes - after.rssBytes < 8 * 1024 * 1024,
    `peak ${after.peakRssBytes} vs rss ${after.rssBytes}`,
  );
});
