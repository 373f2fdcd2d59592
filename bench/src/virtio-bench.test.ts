// SPDX-License-Identifier: Apache-2.0
/**
 * Sanity of the virtio-argo benchmark: a short, bounded run measures every phase through the
 * in-process loopback, Argo in one process and (blk) Argo in three processes, and the ratios
 * are computed from the rows (the numbers themselves are judged by
 * `npm run bench`, not by the unit tests). The work counts per request are not timing, so one
 * bound is checked: a 1 MiB write is not cut into stop-and-wait fragments.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runVirtioBench } from "./virtio-bench.js";

test(
  "a short virtio bench run measures blk over loopback, Argo in one and in three processes, net frames, and the ratios",
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
      for (const transport of ["argo", "argo-processes", "loopback"] as const) {
        const row = r.rows.find((x) => x.test === test && x.transport === transport);
        assert.ok(row !== undefined && row.ops > 0 && row.value > 0, `${test} over ${transport}`);
        assert.ok((row.cpuUsPerRequest ?? -1) >= 0, `${test} over ${transport}: CPU counted`);
      }
      const argo = r.rows.find((x) => x.test === test && x.transport === "argo");
      const procs = r.rows.find((x) => x.test === test && x.transport === "argo-processes");
      const loop = r.rows.find((x) => x.test === test && x.transport === "loopback");
      assert.equal(r.ratios[test], (argo?.value ?? 0) / (loop?.value ?? 1));
      assert.equal(r.processRatios[test], (procs?.value ?? 0) / (loop?.value ?? 1));
      // Three processes: the sum is of the hypervisor's, the back end's and the front end's.
      const by = procs?.cpuByParty;
      assert.ok(by !== undefined, `${test}: CPU per process`);
      assert.equal(procs?.cpuUsPerRequest, by.hypervisor + by.backend + by.frontend);
    }
    // Work counts are noise-free: a 1 MiB write crosses the default blk ring in one message
    // (about 5 multicalls of both guests; 23 when it was cut into five stop-and-wait fragments).
    for (const row of r.rows.filter((x) => x.transport !== "loopback" && x.test !== "net-frames"))
      assert.ok(
        row.work !== undefined && row.work.multicalls > 0,
        `${row.test} over ${row.transport}: work counted`,
      );
    for (const transport of ["argo", "argo-processes"] as const) {
      const mibWrite = r.rows.find(
        (x) => x.test === "blk-1m-seqwrite" && x.transport === transport,
      );
      assert.ok(
        (mibWrite?.work?.multicalls ?? Infinity) < 10,
        `multicalls per 1 MiB write over ${transport}: ${mibWrite?.work?.multicalls}`,
      );
      assert.ok(
        (mibWrite?.work?.memoryBytes ?? 0) >= 2 * 1024 * 1024,
        `${transport}: written once, read once`,
      );
    }
    const net = r.rows.find((x) => x.test === "net-frames");
    assert.ok(net !== undefined && net.ops > 0, "frames crossed the switch");
  },
);

test(
  "blkTests runs only those blk phases, in every transport, and no net phase",
  { timeout: 60_000 },
  async () => {
    const r = await runVirtioBench({
      maxOps: 20,
      maxPhaseMs: 300,
      queueDepth: 4,
      diskBytes: 4 * 1024 * 1024,
      blkTests: ["blk-1m-seqread"],
    });
    assert.deepEqual(
      r.rows.map((x) => `${x.test} ${x.transport}`),
      ["blk-1m-seqread loopback", "blk-1m-seqread argo", "blk-1m-seqread argo-processes"],
    );
    assert.ok(r.rows.every((x) => x.ops > 0));
    assert.deepEqual(Object.keys(r.ratios), ["blk-1m-seqread"]);
    assert.deepEqual(Object.keys(r.processRatios), ["blk-1m-seqread"]);
  },
);
