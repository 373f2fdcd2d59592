// SPDX-License-Identifier: Apache-2.0
/**
 * The benchmark's math: nearest-rank percentiles (edges: one sample, exact ranks, p100),
 * summaries of unsorted input, throughput units, ratios, Jain's index, the delivery check of a receiver's
 * tally, the report's number formatting and target verdicts, and which options make a run
 * experimental.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ARGO_MAX_RING_PAGES, ringLenForPages } from "@hmx/proto/abi";
import type { ReceiveReport } from "./ipc.js";
import { parseBenchOptions, UsageError } from "./options.js";
import { stampPayload, payloadTemplate } from "./payload.js";
import {
  formatRate,
  formatUs,
  markdownTable,
  targetVerdicts,
  verdictLines,
  type SizeResult,
} from "./report.js";
import { jainIndex, percentile, ratio, summarize, throughput } from "./stats.js";
import { deliveryProblem, Tally } from "./tally.js";

describe("percentile (nearest rank)", () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it("p50 of 1..100 is 50 and p99 is 99, p100 is the max", () => {
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 99), 99);
    assert.equal(percentile(hundred, 100), 100);
    assert.equal(percentile(hundred, 0.5), 1);
  });

  it("one sample is every percentile; no sample is NaN", () => {
    assert.equal(percentile([7], 1), 7);
    assert.equal(percentile([7], 99.9), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it("rounds the rank up: p50 of 4 samples is the 2nd, p99 of 10 is the 10th", () => {
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99), 10);
  });

  it("refuses p outside (0, 100]", () => {
    assert.throws(() => percentile([1], 0), RangeError);
    assert.throws(() => percentile([1], 101), RangeError);
  });
});

describe("summarize", () => {
  it("sorts numerically (not as strings) without touching the input", () => {
    const input = [100, 9, 1000, 20];
    const s = summarize(input);
    assert.deepEqual(input, [100, 9, 1000, 20]);
    assert.equal(s.min, 9);
    assert.equal(s.max, 1000);
    assert.equal(s.p50, 20);
    assert.equal(s.mean, 282.25);
    assert.equal(s.count, 4);
  });
});

describe("throughput and ratio", () => {
  it("counts messages per second and MB/s in 10^6 bytes", () => {
    const t = throughput(50_000, 1024, 500);
    assert.equal(t.msgsPerSec, 100_000);
    assert.equal(t.mbPerSec, 102.4);
  });

  it("gives NaN for an empty window and a non-positive baseline", () => {
    assert.ok(Number.isNaN(throughput(1, 1, 0).msgsPerSec));
    assert.equal(ratio(50, 100), 0.5);
    assert.ok(Number.isNaN(ratio(1, 0)));
  });
});

describe("Jain's fairness index", () => {
  it("is 1 for equal shares and 1/n when one of n gets everything", () => {
    assert.equal(jainIndex([5, 5, 5, 5]), 1);
    assert.equal(jainIndex([0, 0, 0, 12]), 0.25);
  });

  it("is (Σx)² / (n Σx²): [1, 2, 3] gives 36 / 42", () => {
    assert.equal(jainIndex([1, 2, 3]), 36 / 42);
    assert.equal(jainIndex([3, 1, 2]), 36 / 42);
  });

  it("refuses no shares, a negative or non-finite share, and all zeros, naming the value", () => {
    assert.throws(() => jainIndex([]), /no shares/);
    assert.throws(() => jainIndex([1, -2]), /share 1 is -2/);
    assert.throws(() => jainIndex([1, Number.NaN]), /share 1 is NaN/);
    assert.throws(() => jainIndex([0, 0]), /every share is 0/);
  });
});

describe("tally", () => {
  const size = 64;
  const template = payloadTemplate(size);

  function run(seqs: number[], expected: number): ReceiveReport {
    const t = new Tally({ tag: 7, size, capacity: 10, recordLatency: true });
    for (const s of seqs) t.observe(stampPayload(template, s, 7));
    return t.report(expected, false, {});
  }

  it("every number once is clean, in any order", () => {
    const r = run([0, 2, 1, 3], 4);
    assert.equal(deliveryProblem(r), null);
    assert.equal(r.outOfOrder, 1);
    assert.equal(r.latenciesUs?.length, 4);
  });

  it("a gap, a duplicate and an extra are each reported", () => {
    const r = run([0, 1, 1, 3, 5], 4);
    assert.equal(r.missing, 1);
    assert.equal(r.duplicates, 1);
    assert.equal(r.outOfRange, 1);
    assert.match(
      deliveryProblem(r) ?? "",
      /1 lost, 1 duplicated, 1 with a sequence number never sent/,
    );
  });

  it("a message of another phase is foreign, not counted", () => {
    const t = new Tally({ tag: 7, size, capacity: 10, recordLatency: false });
    t.observe(stampPayload(template, 0, 8));
    t.observe(Buffer.alloc(3));
    const r = t.report(0, false, {});
    assert.equal(r.foreign, 2);
    assert.equal(r.received, 0);
  });
});

describe("report", () => {
  const pairing = (hmx: number, relay: number) => ({
    hmx,
    relay,
    ratio: ratio(hmx, relay),
    hmxRounds: [hmx],
    relayRounds: [relay],
  });
  /** A row whose batched ratio is `r` and whose p50 latency ratio is `lat`. */
  const row = (payload: number, r: number, lat = 2): SizeResult => ({
    payload,
    // Unbatched hmx far ahead, so that a verdict reading the wrong pairing would be MET.
    unbatched: pairing(10_000, 1000),
    batched: pairing(r * 1000, 1000),
    latency: { hmx: summarize([100 * lat]), relay: summarize([100]), ratioP50: lat },
  });

  it("formats rates and microseconds compactly", () => {
    assert.equal(formatRate(123_456), "123.5k");
    assert.equal(formatRate(999), "999");
    assert.equal(formatUs(1234.4), "1,234");
    assert.equal(formatUs(Number.NaN), "–");
  });

  it("judges throughput on the batched pairing only: >= 0.5 at 64 B, >= 0.9 at 64 KiB", () => {
    const v = targetVerdicts([row(64, 0.5), row(1024, 0.1), row(65536, 0.89)]).filter(
      (t) => t.measure === "batched msgs/s",
    );
    assert.deepEqual(
      v.map((t) => [t.payload, t.met]),
      [
        [64, true],
        [65536, false],
      ],
    );
  });

  it("judges latency on the p50 ratio: <= 1.5 at 64 B and 1 KiB", () => {
    const v = targetVerdicts([row(64, 1, 1.5), row(1024, 1, 1.51)]).filter(
      (t) => t.measure === "p50 latency",
    );
    assert.deepEqual(
      v.map((t) => [t.payload, t.met]),
      [
        [64, true],
        [1024, false],
      ],
    );
  });

  it("calls a target met or not only in a full run: a --quick run's ratios are not judged", () => {
    const verdicts = targetVerdicts([row(64, 0.7, 1.2)]);
    const full = verdictLines(verdicts);
    assert.ok(
      full.every((l) => / — (MET|NOT MET)$/.test(l)),
      full.join("\n"),
    );
    const quick = verdictLines(verdicts, false);
    assert.equal(quick.length, full.length);
    for (const line of quick) {
      assert.match(line, / — not judged \(--quick\)$/);
      assert.doesNotMatch(line, /MET/);
    }
    assert.match(quick[0] ?? "", /0\.70 \(target >= 0\.5\)/);
  });

  it("renders a Markdown table with one row per payload", () => {
    const md = markdownTable([row(64, 0.5), row(65536, 0.8)]);
    const lines = md.trim().split("\n");
    assert.equal(lines.length, 4);
    assert.match(
      lines[2] ?? "",
      /^\| 64 B \| 10\.0k \| 1\.0k \| 10\.00 \| 500 \| 1\.0k \| 0\.50 \|/,
    );
    assert.match(lines[3] ?? "", /^\| 64 KiB \|/);
  });
});

describe("options", () => {
  it("the defaults are the published measurement; any investigating option makes a run experimental", () => {
    const d = parseBenchOptions([]);
    assert.ok(d !== "help");
    assert.deepEqual(d.sizes, [64, 1024, 65536]);
    assert.equal(d.experimental, false);
    assert.equal(d.latencyRatePerSec[65536], 250);
    const q = parseBenchOptions(["--quick", "--sizes", "64"]);
    assert.ok(q !== "help" && q.experimental);
    assert.throws(() => parseBenchOptions(["--sizes", "8"]), UsageError);
    assert.throws(() => parseBenchOptions(["--nope"]), UsageError);
  });

  it("--only runs just the named phases, is experimental, and refuses an unknown phase or a --no-*", () => {
    const d = parseBenchOptions([]);
    assert.ok(d !== "help");
    assert.deepEqual([d.traffic, d.memory, d.mac, d.virtio], [true, true, true, true]);
    const v = parseBenchOptions(["--only", "virtio"]);
    assert.ok(v !== "help" && v.experimental);
    assert.deepEqual([v.traffic, v.memory, v.mac, v.virtio], [false, false, false, true]);
    const two = parseBenchOptions(["--only", "mac, traffic"]);
    assert.ok(two !== "help");
    assert.deepEqual([two.traffic, two.memory, two.mac, two.virtio], [true, false, true, false]);
    const pairs = parseBenchOptions(["--only", "pairs"]);
    assert.ok(pairs !== "help");
    assert.deepEqual([pairs.traffic, pairs.memory, pairs.pairs], [false, false, true]);
    assert.equal(d.pairs, true);
    assert.throws(() => parseBenchOptions(["--only", "virtio,disk"]), /unknown phase "disk"/);
    assert.throws(() => parseBenchOptions(["--only", "virtio", "--no-mac"]), UsageError);
  });

  it("--ring-pages sets the traffic receivers' ring, Argo's largest by default, and refuses a bigger one", () => {
    const d = parseBenchOptions([]);
    assert.ok(d !== "help");
    assert.equal(d.ringLen, ringLenForPages(ARGO_MAX_RING_PAGES));
    const small = parseBenchOptions(["--ring-pages", "256"]);
    assert.ok(small !== "help" && small.experimental);
    assert.equal(small.ringLen, ringLenForPages(256));
    assert.throws(
      () => parseBenchOptions(["--ring-pages", String(ARGO_MAX_RING_PAGES + 1)]),
      /--ring-pages must be at most 4096 .* got 4097/,
    );
    assert.throws(
      () => parseBenchOptions(["--ring-pages", "0"]),
      /--ring-pages must be a positive integer, got "0"/,
    );
  });

  it("the saturated warm-up ends on time like a round, never on a message count that fast systems pass in a blink", () => {
    const d = parseBenchOptions([]);
    assert.ok(d !== "help");
    // 20,000 messages took the batched systems 0.03-0.2 s, too short for V8 to optimise hmx's path.
    assert.ok(d.warmupMessages >= d.maxMessages, `warm-up cap ${d.warmupMessages}`);
    assert.ok(d.warmupMs >= 3000, `warm-up ${d.warmupMs} ms`);
  });

  it("--latency-only skips the saturated rounds and --rounds sets the round count; both are experimental", () => {
    const d = parseBenchOptions([]);
    assert.ok(d !== "help");
    assert.deepEqual([d.latencyOnly, d.rounds], [false, 3]);
    const l = parseBenchOptions(["--latency-only", "--rounds", "5"]);
    assert.ok(l !== "help" && l.experimental);
    assert.deepEqual([l.latencyOnly, l.rounds], [true, 5]);
    const r = parseBenchOptions(["--rounds", "3"]);
    assert.ok(r !== "help" && r.experimental);
    const q = parseBenchOptions(["--quick"]);
    assert.ok(q !== "help");
    assert.equal(q.rounds, 1);
    assert.throws(
      () => parseBenchOptions(["--rounds", "0"]),
      /--rounds must be a positive integer, got "0"/,
    );
  });

  it("--paced-rate and --paced-count set every size's paced rate and count, are experimental, and refuse bad values by name", () => {
    const d = parseBenchOptions([]);
    assert.ok(d !== "help");
    assert.deepEqual(
      [d.latencyCount, d.latencyRatePerSec[64], d.latencyRatePerSec[65536]],
      [2000, 1000, 250],
    );
    const p = parseBenchOptions(["--paced-rate", "10", "--paced-count", "150"]);
    assert.ok(p !== "help" && p.experimental);
    assert.deepEqual(
      [p.latencyCount, p.latencyRatePerSec[64], p.latencyRatePerSec[65536]],
      [150, 10, 10],
    );
    assert.throws(
      () => parseBenchOptions(["--paced-rate", "fast"]),
      /--paced-rate must be a positive integer, got "fast"/,
    );
    assert.throws(
      () => parseBenchOptions(["--paced-rate", "100001"]),
      /at most 100000 .* got 100001/,
    );
    assert.throws(
      () => parseBenchOptions(["--paced-count", "0"]),
      /--paced-count must be a positive integer, got "0"/,
    );
    assert.throws(
      () => parseBenchOptions(["--paced-count", "1000001"]),
      /--paced-count must be at most 1000000, got 1000001/,
    );
  });

  it("--virtio-phases picks blk tests in bench order, is experimental, and refuses an unknown test", () => {
    const d = parseBenchOptions([]);
    assert.ok(d !== "help");
    assert.equal(d.virtioPhases, null);
    const v = parseBenchOptions(["--virtio-phases", "blk-1m-seqread, blk-1m-seqwrite"]);
    assert.ok(v !== "help" && v.experimental);
    assert.deepEqual(v.virtioPhases, ["blk-1m-seqwrite", "blk-1m-seqread"]);
    assert.throws(
      () => parseBenchOptions(["--virtio-phases", "blk-1m-seqread,blk-2m"]),
      /unknown test "blk-2m"/,
    );
  });
});
