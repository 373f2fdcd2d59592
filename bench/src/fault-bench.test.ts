// SPDX-License-Identifier: Apache-2.0
/**
 * Sanity of the fault-engine benchmark: a short, bounded run measures both pairs (the Argo
 * engine loaded / absent on sendv traffic, the link-fault layer on / off on memory calls) and
 * computes each ratio from the medians (the numbers are judged by `npm run bench`, not by the
 * unit tests). The sendv round fails loudly if any sendv is refused, so it measures the full path.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runFaultBench } from "./fault-bench.js";
import { median } from "./stats.js";

test(
  "a short fault bench measures both configurations of both pairs and their ratios",
  { timeout: 120_000 },
  async () => {
    const r = await runFaultBench({ roundMs: 200, rounds: 1, batchOps: 8, inFlight: 2 });
    for (const p of [r.argo, r.link]) {
      assert.equal(p.roundsWithout.length, 1);
      assert.equal(p.roundsWith.length, 1);
      assert.ok(p.withoutOpsPerSec > 0 && p.withOpsPerSec > 0);
      assert.equal(p.withOpsPerSec, median(p.roundsWith));
      assert.equal(p.ratio, p.withOpsPerSec / p.withoutOpsPerSec);
      assert.equal(p.meetsTarget, p.ratio >= r.targetRatio);
      assert.ok(p.cpuUsWithout > 0 && p.cpuUsWith > 0, JSON.stringify(p));
      assert.equal(p.capacityRatio, p.cpuUsWithout / p.cpuUsWith);
    }
    assert.equal(r.meetsTarget, r.argo.meetsTarget && r.link.meetsTarget);
  },
);
