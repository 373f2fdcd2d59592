// SPDX-License-Identifier: Apache-2.0
/**
 * Turns the measurements into what people read: the console table, the Markdown table that
 * goes into README.md, the verdict on each throughput target, and the JSON file in
 * `bench-results/` (one per run, plus `latest.json`). Formatting lives here and only here, so
 * the numbers in the three outputs cannot disagree.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import type { Summary } from "./stats.js";

/** One system's figures at one payload size. */
export interface SystemResult {
  readonly msgsPerSec: number;
  readonly mbPerSec: number;
  /** One-way latency in µs, paced phase. */
  readonly latency: Summary;
}

export interface SizeResult {
  readonly payload: number;
  readonly hmx: SystemResult;
  readonly baseline: SystemResult;
  /** hmx msgs/s ÷ baseline msgs/s (same payload, so also the MB/s ratio). */
  readonly throughputRatio: number;
  /** hmx p50 ÷ baseline p50 (> 1: hmx is slower). */
  readonly latencyRatioP50: number;
}

/** The throughput targets (DESIGN.md §4 "Fast"): payload → least hmx / baseline ratio. */
export const THROUGHPUT_TARGETS: readonly {
  readonly payload: number;
  readonly minRatio: number;
}[] = [
  { payload: 64, minRatio: 0.5 },
  { payload: 64 * 1024, minRatio: 0.7 },
];

export interface TargetVerdict {
  readonly payload: number;
  readonly minRatio: number;
  readonly ratio: number;
  readonly met: boolean;
}

export function targetVerdicts(rows: readonly SizeResult[]): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  for (const t of THROUGHPUT_TARGETS) {
    const row = rows.find((r) => r.payload === t.payload);
    if (row === undefined) continue;
    verdicts.push({ ...t, ratio: row.throughputRatio, met: row.throughputRatio >= t.minRatio });
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
  "hmx msgs/s",
  "baseline msgs/s",
  "ratio",
  "hmx MB/s",
  "baseline MB/s",
  "hmx p50/p99 µs",
  "baseline p50/p99 µs",
] as const;

function cells(r: SizeResult): string[] {
  return [
    formatSize(r.payload),
    formatRate(r.hmx.msgsPerSec),
    formatRate(r.baseline.msgsPerSec),
    formatRatio(r.throughputRatio),
    formatMb(r.hmx.mbPerSec),
    formatMb(r.baseline.mbPerSec),
    `${formatUs(r.hmx.latency.p50)} / ${formatUs(r.hmx.latency.p99)}`,
    `${formatUs(r.baseline.latency.p50)} / ${formatUs(r.baseline.latency.p99)}`,
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

export function verdictLines(verdicts: readonly TargetVerdict[]): string[] {
  return verdicts.map(
    (v) =>
      `throughput ratio at ${formatSize(v.payload)}: ${formatRatio(v.ratio)} (target >= ${v.minRatio}) — ${v.met ? "MET" : "NOT MET"}`,
  );
}

/** Facts about the machine and runtime that every result file carries. */
export function environment(): {
  node: string;
  cpuModel: string;
  cpus: number;
  platform: string;
  date: string;
} {
  const list = cpus();
  return {
    node: process.version,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cpus: list.length,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
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
