// SPDX-License-Identifier: Apache-2.0
/**
 * The timeline picture on a planted history: each fault's bar sits exactly where its start and
 * end events were, in its kind/target lane; the rate lines follow the planted sendvs (a pause
 * shows as a drop to zero); too many lanes fold partitions together; a fault that never ended is
 * drawn open to the end of the run.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  LAYOUT,
  MAX_LANES,
  PairRates,
  faultBars,
  timelineSvg,
  xOf,
  yOf,
  type TimelineFaultEvent,
} from "./timeline.js";

const DURATION_MS = 10_000;

function fault(
  id: string,
  kind: string,
  target: string,
  detail: Record<string, unknown>,
  startMs: number,
  endMs?: number,
): TimelineFaultEvent[] {
  const start = { kind, action: "start", target, id, detail, runMs: startMs };
  return endMs === undefined ? [start] : [start, { ...start, action: "end", runMs: endMs }];
}

const PLANTED: TimelineFaultEvent[] = [
  ...fault("argo-1", "argo", "g1", { type: "pause", from: ["g1"] }, 1000, 3000),
  ...fault("argo-2", "argo", "g1<->g2", { type: "partition", bothWays: true }, 4000, 6000),
  ...fault("link:g2/down", "link", "g2", {}, 2000, 2500),
  ...fault("process-4", "process", "streamer", { action: "kill", target: "streamer" }, 7000, 7050),
  ...fault("argo-5", "argo", "g2", { type: "pause", from: ["g2"] }, 9000),
];

/** g1 → g2: 5 messages every 100 ms (50/s) except while g1 is paused; g2 → g1: 2/s throughout. */
function plantedRates(): PairRates {
  const rates = new PairRates(500);
  for (let t = 0; t < DURATION_MS; t += 100) {
    if (t < 1000 || t >= 3000) for (let i = 0; i < 5; i++) rates.add(t + i, "g1", "g2");
    if (t % 500 === 0) rates.add(t, "g2", "g1");
  }
  return rates;
}

function attributes(tag: string): Record<string, string> {
  return Object.fromEntries(
    [...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m): [string, string] => [m[1] ?? "", m[2] ?? ""]),
  );
}

describe("the timeline picture", () => {
  it("faults appear in their kind/target lane from their start to their end", () => {
    const bars = faultBars(PLANTED, DURATION_MS);
    assert.deepEqual(
      bars.map((b) => [b.lane, b.id, b.startMs, b.endMs, b.open]),
      [
        ["kill streamer", "process-4", 7000, 7050, false],
        ["link g2 down", "link:g2/down", 2000, 2500, false],
        ["partition g1<->g2", "argo-2", 4000, 6000, false],
        ["pause g1", "argo-1", 1000, 3000, false],
        ["pause g2", "argo-5", 9000, DURATION_MS, true],
      ],
    );
  });

  it("the rates are the planted messages per second in each bin", () => {
    const [busy, quiet] = plantedRates().series(20);
    assert.ok(busy !== undefined && quiet !== undefined);
    assert.equal(busy.pair, "g1 → g2");
    assert.deepEqual(
      busy.perSecond,
      Array.from({ length: 20 }, (_, bin) => (bin >= 2 && bin < 6 ? 0 : 50)),
    );
    assert.equal(quiet.pair, "g2 → g1");
    assert.deepEqual(quiet.perSecond, new Array<number>(20).fill(2));
  });

  it("the SVG draws each bar at its times and each line through its rates", () => {
    const bars = faultBars(PLANTED, DURATION_MS);
    const svg = timelineSvg({ title: "t", durationMs: DURATION_MS, bars, rates: plantedRates() });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const rects = [...svg.matchAll(/<rect class="fault"[^>]*>/g)].map((m) => attributes(m[0]));
    assert.equal(rects.length, bars.length);
    for (const bar of bars) {
      const rect = rects.find((r) => r["data-id"] === bar.id);
      assert.ok(rect, bar.id);
      const x = xOf(bar.startMs, DURATION_MS);
      assert.ok(Math.abs(Number(rect["x"]) - x) < 0.1, `${bar.id} starts at ${bar.startMs}ms`);
      const width = Math.max(1.5, xOf(bar.endMs, DURATION_MS) - x);
      assert.ok(Math.abs(Number(rect["width"]) - width) < 0.1, `${bar.id} ends at ${bar.endMs}ms`);
    }
    const lanes = new Set(bars.map((b) => b.lane)).size;
    const line = [...svg.matchAll(/<polyline class="rate"[^>]*>/g)]
      .map((m) => attributes(m[0]))
      .find((a) => a["data-pair"] === "g1 → g2");
    assert.ok(line, "a line for g1 → g2");
    const ys = (line["points"] ?? "").split(" ").map((p) => Number(p.split(",")[1]));
    assert.equal(ys.length, 20);
    for (const [bin, y] of ys.entries()) {
      const rate = bin >= 2 && bin < 6 ? 0 : 50;
      assert.ok(Math.abs(y - yOf(rate, 50, lanes)) < 0.1, `bin ${bin} at ${rate}/s`);
    }
    assert.ok(svg.includes(`width="${LAYOUT.width}"`));
  });

  it("more lanes than fit fold the partitions into one lane per direction", () => {
    const many = Array.from({ length: MAX_LANES + 1 }, (_, i) =>
      fault(`argo-${i}`, "argo", `g${i}->g${i + 1}`, { type: "partition" }, i * 100, i * 100 + 50),
    ).flat();
    const bars = faultBars(many, DURATION_MS);
    assert.deepEqual(new Set(bars.map((b) => b.lane)), new Set(["partition (one way)"]));
    assert.equal(bars.length, MAX_LANES + 1);
  });

  it("with no history the picture says there are no rates instead of drawing empty lines", () => {
    const svg = timelineSvg({
      title: "t",
      durationMs: DURATION_MS,
      bars: [],
      rates: new PairRates(500),
    });
    assert.match(svg, /no fault started/);
    assert.match(svg, /no message rates/);
  });
});
