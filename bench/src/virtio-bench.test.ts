// SPDX-License-Identifier: Apache-2.0
/**
 * Sanity of the virtio-argo benchmark: a short, bounded run measures every phase through both
 * transports, and the ratios are computed from the rows (the numbers themselves are judged by
 * `npm run bench`, not by the unit tests).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runVirtioBench } from "./virtio-bench.js";

test(
  "a short virtio bench run measures blk over Argo and over loopback, net frames, and the ratios",
  { timeout: 60_000 },
  async () => {
    const r = await runVirtioBench({
      maxOps: 200,
      maxPhaseMs: 300,
      queueDepth: 4,
      diskBytes: 4 * 1024 * 1024,
      frameBytes: 200,
    });
    for (const test of [
      "blk-4k-randread",
      "blk-4k-randwrite",
      "blk-1m-seqwrite",
      "blk-1m-seqread",
    ] as const) {
      for (const transport of ["argo", "loopback"] as const) {
        const row = r.rows.find((x) => x.test === test && x.transport === transport);
        assert.ok(row !== undefined && row.ops > 0 && row.value > 0, `${test} over ${transport}`);
      }
      const argo = r.rows.find((x) => x.test === test && x.transport === "argo");
      const loop = r.rows.find((x) => x.test === test && x.transport === "loopback");
      assert.equal(r.ratios[test], (argo?.value ?? 0) / (loop?.value ?? 1));
    }
    const net = r.rows.find((x) => x.test === "net-frames");
    assert.ok(net !== undefined && net.ops > 0, "frames crossed the switch");
  },
);
