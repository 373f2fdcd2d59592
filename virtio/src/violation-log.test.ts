// SPDX-License-Identifier: Apache-2.0
/** Violation counting and log rate-limiting (virtio-argo.md §4.9; house-style §6.3). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ViolationLog } from "./violation-log.js";

function fakeLogger() {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return {
    lines,
    warn: (obj: object, msg: string) => lines.push({ obj: obj as Record<string, unknown>, msg }),
    debug: () => undefined,
  };
}

describe("violation log", () => {
  it("counts every violation per kind and in total", () => {
    const v = new ViolationLog();
    v.report("descriptorLoop");
    v.report("descriptorLoop");
    v.report("chainTooLong");
    assert.equal(v.count("descriptorLoop"), 2);
    assert.equal(v.stats.total, 3);
  });

  it("logs at most maxLines per window, counts the rest, and says how many were suppressed", () => {
    let now = 0;
    const log = fakeLogger();
    const v = new ViolationLog({
      logger: log,
      maxLines: 3,
      windowMs: 1000,
      now: () => now,
      bindings: { device: "vda" },
    });
    for (let i = 0; i < 100; i++) v.report("invalidAvailIdx", { queue: 0 });
    assert.equal(log.lines.length, 3);
    assert.equal(v.stats.suppressedLines, 97);
    assert.equal(v.count("invalidAvailIdx"), 100);
    now = 1500;
    v.report("descriptorLoop");
    assert.equal(log.lines.length, 4);
    const line = log.lines[3];
    assert.ok(line);
    assert.equal(line.obj["suppressed"], 97);
    assert.equal(line.obj["device"], "vda");
    assert.equal(line.obj["violation"], "descriptorLoop");
  });
});
