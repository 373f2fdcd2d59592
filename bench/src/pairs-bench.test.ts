// SPDX-License-Identifier: Apache-2.0
/**
 * The 50-pair phase's delivery check: the run fails, naming the pair, when any pair lost,
 * duplicated or reordered a message, or when a worker's reports are missing; a clean run's
 * reports come back in pair order.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PairReport } from "./ipc.js";
import { checkPairReports } from "./pairs-bench.js";

const clean = (index: number, n = 10): PairReport => ({
  index,
  sent: n,
  received: n,
  inWindow: n - 1,
  outOfSequence: 0,
});

describe("pairs delivery check", () => {
  it("a clean run comes back in pair order", () => {
    const out = checkPairReports([clean(2), clean(0), clean(1)], 3);
    assert.deepEqual(
      out.map((r) => r.index),
      [0, 1, 2],
    );
  });

  it("a lost message fails the run and names the pair", () => {
    assert.throws(
      () => checkPairReports([clean(0), { ...clean(1), received: 9 }], 2),
      /pair 1: delivery check FAILED: sent 10, received 9/,
    );
  });

  it("a message out of sequence fails the run even when the counts match", () => {
    assert.throws(
      () => checkPairReports([{ ...clean(0), outOfSequence: 1 }], 1),
      /pair 0: .*1 out of sequence/,
    );
  });

  it("a missing worker's pairs fail the run", () => {
    assert.throws(() => checkPairReports([clean(0)], 2), /expected 2 pair reports, got 1/);
  });
});
