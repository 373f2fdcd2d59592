// SPDX-License-Identifier: Apache-2.0
/**
 * The /proc readers the history bench splits its CPU per call with: a process's user and system
 * time, one thread's, and null for what does not exist.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cpuSeconds, cpuTimes } from "./proc-stat.js";

/** Keeps this thread busy for about `ms` of wall time (bounded), so it has CPU time to show. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
}

describe("cpuTimes", { skip: process.platform !== "linux" && "reads Linux's /proc" }, () => {
  it("splits a process's CPU into user and system, cpuSeconds being their sum", () => {
    spin(50);
    const t = cpuTimes(process.pid);
    assert.ok(t !== null);
    assert.ok(t.user > 0, `user ${t.user}`);
    assert.ok(t.system >= 0, `system ${t.system}`);
    const sum = cpuSeconds(process.pid);
    assert.ok(sum !== null);
    // Read a moment later, so at least the earlier sum.
    assert.ok(sum >= t.user + t.system, `${sum} < ${t.user + t.system}`);
  });

  it("reads one thread: the main thread's tid is the pid, and it is part of the whole", () => {
    spin(50);
    const main = cpuTimes(process.pid, process.pid);
    const all = cpuTimes(process.pid);
    assert.ok(main !== null && all !== null);
    assert.ok(main.user > 0, `main thread user ${main.user}`);
    assert.ok(main.user + main.system <= all.user + all.system);
  });

  it("gives null for a process or thread that does not exist", () => {
    assert.equal(cpuTimes(0x7fffffff), null);
    assert.equal(cpuTimes(process.pid, 0x7fffffff), null);
  });
});
