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
import {
  runVirtioBench,
  summarizeRounds,
  virtioVerdicts,
  type VirtioBenchRow,
} from "./virtio-bench.js";

test(
  "a short virtio bench run measures blk over loopback, Argo in one and in three processes, net frames, and the ratios",
  { timeout: 60_000 },
  async () => {
    const r = await runVirtioBench({
      rounds: 1,
      // A warm-up runs first; the work counts below must not include it.
      warmupMs: 100,
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
      rounds: 1,
      warmupMs: 0,
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

/** A row of `test` over `transport` at `value` (the other fields are carried, not read). */
function row(
  test: VirtioBenchRow["test"],
  transport: VirtioBenchRow["transport"],
  value: number,
): VirtioBenchRow {
  return { test, transport, value, unit: "IOPS", ops: value, ms: 1000, cpuUsPerRequest: value };
}

test("rounds: each row is the median round's, each ratio the median of the rounds' own ratios", () => {
  const rounds = [
    [row("blk-4k-randread", "loopback", 100), row("blk-4k-randread", "argo", 30)],
    [row("blk-4k-randread", "loopback", 50), row("blk-4k-randread", "argo", 20)],
    [row("blk-4k-randread", "loopback", 80), row("blk-4k-randread", "argo", 16)],
  ];
  const r = summarizeRounds(rounds);
  assert.equal(r.rounds, 3);
  const loop = r.rows.find((x) => x.transport === "loopback");
  const argo = r.rows.find((x) => x.transport === "argo");
  assert.equal(loop?.value, 80, "the median of 100, 50, 80");
  assert.deepEqual(loop.roundValues, [100, 50, 80]);
  assert.equal(argo?.value, 20);
  assert.equal(argo.cpuUsPerRequest, 20, "the median round's row, whole");
  // Each round's own ratio: 0.3, 0.4, 0.2 — not 20 / 80 (0.25) from the median rows.
  assert.deepEqual(r.ratioRounds["blk-4k-randread"], {
    median: 0.3,
    min: 0.2,
    max: 0.4,
    rounds: [0.3, 0.4, 0.2],
  });
  assert.equal(r.ratios["blk-4k-randread"], 0.3);
  assert.deepEqual(r.processRatios, {}, "no three-process rows, no such ratios");
});

test("the virtio verdicts judge each blk test's median ratios against its target", () => {
  const r = summarizeRounds([
    [
      row("blk-4k-randwrite", "loopback", 100),
      row("blk-4k-randwrite", "argo", 50),
      row("blk-4k-randwrite", "argo-processes", 49),
      row("blk-1m-seqread", "loopback", 100),
      row("blk-1m-seqread", "argo", 31),
      row("blk-1m-seqread", "argo-processes", 29),
    ],
  ]);
  assert.deepEqual(virtioVerdicts(r), [
    "blk-4k-randwrite argo ÷ loopback (target >= 0.5): one process 0.500 MET, three processes 0.490 NOT MET",
    "blk-1m-seqread argo ÷ loopback (target >= 0.3): one process 0.310 MET, three processes 0.290 NOT MET",
  ]);
  // A --quick run shows the same ratios without a verdict.
  assert.deepEqual(virtioVerdicts(r, false), [
    "blk-4k-randwrite argo ÷ loopback (target >= 0.5): one process 0.500 not judged (--quick), three processes 0.490 not judged (--quick)",
    "blk-1m-seqread argo ÷ loopback (target >= 0.3): one process 0.310 not judged (--quick), three processes 0.290 not judged (--quick)",
  ]);
});

test("a round count or warm-up that is not a whole number is refused, naming it", async () => {
  for (const rounds of [0, -1, 1.5])
    await assert.rejects(runVirtioBench({ rounds }), new RegExp(`rounds ${rounds} is not`));
  for (const warmupMs of [-1, 0.5])
    await assert.rejects(runVirtioBench({ warmupMs }), new RegExp(`warmupMs ${warmupMs} is not`));
});
