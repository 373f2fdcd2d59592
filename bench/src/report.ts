// SPDX-License-Identifier: Apache-2.0
/**
 * Turns the measurements into what people read: the console table, the Markdown table that
 * goes into README.md (every ratio like for like: unbatched against unbatched, batched against
 * batched, latency against latency), the verdict on each target, and the JSON file in
 * `bench-results/` (one per run, plus `latest.json`). Formatting lives here and only here, so
 * the numbers in the three outputs cannot disagree.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import type { Summary } from "./stats.js";

/** One like-for-like throughput comparison at one payload size: medians of the rounds. */
export interface Pairing {
  /** Median msgs/s over the saturated rounds. */
  readonly hmx: number;
  readonly relay: number;
  /** hmx ÷ relay medians (same payload, so also the MB/s ratio). */
  readonly ratio: number;
  /** Every round's msgs/s, in order, to show the spread. */
  readonly hmxRounds: readonly number[];
  readonly relayRounds: readonly number[];
}

export interface SizeResult {
  readonly payload: number;
  /** hmx's socket with one message per multicall vs the relay with one per gRPC message. */
  readonly unbatched: Pairing;
  /** libargo's default batching vs the relay packing as many payloads per gRPC message. */
  readonly batched: Pairing;
  /** One-way latency, paced phase: hmx's default socket vs the relay one per gRPC message. */
  readonly latency: { readonly hmx: Summary; readonly relay: Summary; readonly ratioP50: number };
}

/** The issue-15 targets: a bound on one ratio at one payload size. */
export const TARGETS: readonly {
  readonly payload: number;
  readonly measure: "batched msgs/s" | "p50 latency";
  /** Throughput: the least hmx ÷ relay. Latency: the most. */
  readonly bound: number;
}[] = [
  { payload: 64, measure: "batched msgs/s", bound: 0.5 },
  { payload: 64 * 1024, measure: "batched msgs/s", bound: 0.9 },
  { payload: 64, measure: "p50 latency", bound: 1.5 },
  { payload: 1024, measure: "p50 latency", bound: 1.5 },
];

export interface TargetVerdict {
  readonly payload: number;
  readonly measure: (typeof TARGETS)[number]["measure"];
  readonly bound: number;
  readonly ratio: number;
  readonly met: boolean;
}

export function targetVerdicts(rows: readonly SizeResult[]): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  for (const t of TARGETS) {
    const row = rows.find((r) => r.payload === t.payload);
    if (row === undefined) continue;
    const throughput = t.measure === "batched msgs/s";
    const ratio = throughput ? row.batched.ratio : row.latency.ratioP50;
    verdicts.push({ ...t, ratio, met: throughput ? ratio >= t.bound : ratio <= t.bound });
  }
  return verdicts;
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** 123456 → "123.5k", 999 → "999". */
export function formatRate(v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(0);
}

export function formatMb(v: number): string {
  if (!Number.isFinite(v)) return "–";
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

/** Microseconds, rounded, with thousands separators. */
export function formatUs(v: number): string {
  if (!Number.isFinite(v)) return "–";
  return Math.round(v).toLocaleString("en-US");
}

export function formatRatio(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : "–";
}

const HEADERS = [
  "payload",
  "unbatched hmx msgs/s",
  "relay msgs/s",
  "ratio",
  "batched hmx msgs/s",
  "relay msgs/s",
  "ratio",
  "batched hmx MB/s",
  "hmx p50/p99 µs",
  "relay p50/p99 µs",
  "p50 ratio",
] as const;

function cells(r: SizeResult): string[] {
  const { unbatched: u, batched: b, latency: l } = r;
  return [
    formatSize(r.payload),
    formatRate(u.hmx),
    formatRate(u.relay),
    formatRatio(u.ratio),
    formatRate(b.hmx),
    formatRate(b.relay),
    formatRatio(b.ratio),
    formatMb((b.hmx * r.payload) / 1e6),
    `${formatUs(l.hmx.p50)} / ${formatUs(l.hmx.p99)}`,
    `${formatUs(l.relay.p50)} / ${formatUs(l.relay.p99)}`,
    formatRatio(l.ratioP50),
  ];
}

/** A fixed-width table for the terminal. */
export function consoleTable(rows: readonly SizeResult[]): string {
  const body = rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]): string =>
    c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join("  ");
  return [line(HEADERS), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** The same table in Markdown (numbers right-aligned). */
export function markdownTable(rows: readonly SizeResult[]): string {
  const head = `| ${HEADERS.join(" | ")} |`;
  const align = `|${HEADERS.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`;
  return [head, align, ...rows.map((r) => `| ${cells(r).join(" | ")} |`)].join("\n") + "\n";
}

/**
 * The word a report line ends with. `judged` false (a `--quick` run, whose rounds are too short
 * to measure anything) shows the figure without calling the target met or not.
 */
export function verdictWord(met: boolean, judged = true): string {
  return !judged ? "not judged (--quick)" : met ? "MET" : "NOT MET";
}

/** One line per target (`judged`: as for `verdictWord`). */
export function verdictLines(verdicts: readonly TargetVerdict[], judged = true): string[] {
  return verdicts.map((v) => {
    const sign = v.measure === "p50 latency" ? "<=" : ">=";
    const verdict = verdictWord(v.met, judged);
    return `${v.measure} hmx ÷ relay at ${formatSize(v.payload)}: ${formatRatio(v.ratio)} (target ${sign} ${v.bound}) — ${verdict}`;
  });
}

/** Facts about the machine and runtime that every result file carries. */
export function environment(): {
  node: string;
  cpuModel: string;
  cpus: number;
  platform: string;
  date: string;
  /** 1, 5 and 15 minute load averages at the start (the machine is often shared). */
  loadAverage: number[];
} {
  const list = cpus();
  return {
    node: process.version,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cpus: list.length,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/**
 * Writes `results` as `bench-<timestamp>.json` and `latest.json` in `dir` (created if needed);
 * returns the timestamped path. Typed arrays are written as plain arrays.
 */
export function writeResults(dir: string, results: object, date: Date): string {
  mkdirSync(dir, { recursive: true });
  const stamp = date.toISOString().replace(/[:.]/g, "-");
  const text =
    JSON.stringify(
      results,
      (_key, value: unknown) =>
        ArrayBuffer.isView(value) && !(value instanceof DataView)
          ? Array.from(value as Float64Array)
          : value,
      2,
    ) + "\n";
  const path = join(dir, `bench-${stamp}.json`);
  writeFileSync(path, text);
  writeFileSync(join(dir, "latest.json"), text);
  return path;
}

/**
 * One line on where an hmx guest's time went, from its timed multicalls (`timed-client.ts`):
 * the share of the phase with a batch in flight, then the three shapes that took the most
 * time, each as count × mean round trip.
 */
export function rttLine(counters: Readonly<Record<string, number>>, wallMs: number): string {
  const shapes = new Map<string, { count: number; totalUs: number }>();
  for (const [key, v] of Object.entries(counters)) {
    const m = /^rtt\.(.+)\.(count|totalUs)$/.exec(key);
    if (m === null) continue;
    const shape = m[1] ?? "";
    const s = shapes.get(shape) ?? { count: 0, totalUs: 0 };
    if (m[2] === "count") s.count = v;
    else s.totalUs = v;
    shapes.set(shape, s);
  }
  const busy = counters["linkBusyUs"];
  const parts = [
    `link busy ${busy === undefined || !(wallMs > 0) ? "?" : Math.round(busy / 10 / wallMs)}%`,
  ];
  for (const [shape, s] of [...shapes]
    .filter(([, s]) => s.count > 0)
    .sort((a, b) => b[1].totalUs - a[1].totalUs)
    .slice(0, 3)) {
    parts.push(`${shape} ${s.count}× ${formatUs(s.totalUs / s.count)} µs`);
  }
  return parts.join("; ");
}
