// SPDX-License-Identifier: Apache-2.0
/**
 * Sanity of the fault-layer benchmark: a short, bounded run measures traffic with and without
 * the link-fault layer and computes the ratio from them (the numbers are judged by
 * `npm run bench`, not by the unit tests).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runFaultBench } from "./fault-bench.js";

test(
  "a short fault bench measures both configurations and their ratio",
  { timeout: 60_000 },
  async () => {
    const r = await runFaultBench({ roundMs: 200, rounds: 1, batchOps: 8, inFlight: 2 });
    assert.equal(r.roundsPlain.length, 1);
    assert.equal(r.roundsFaults.length, 1);
    assert.ok(r.plainOpsPerSec > 0 && r.faultsOpsPerSec > 0);
    assert.equal(r.ratio, r.faultsOpsPerSec / r.plainOpsPerSec);
    assert.equal(r.meetsTarget, r.ratio >= r.targetRatio);
  },
);
