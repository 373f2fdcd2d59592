// SPDX-License-Identifier: Apache-2.0
/**
 * The timeline picture of a schedule run (`timeline.svg`, DESIGN §3.5): every fault as a bar on
 * a time axis, one lane per fault kind and target, above the message rate of each sender →
 * receiver pair, computed from the history's successful sendvs. Hand-written SVG, so any browser
 * or image viewer shows it and CI can keep it as an artifact; nothing is fetched or scripted.
 *
 * The data (bars, rates) and the drawing are separate so a test can plant a history and check
 * both: the faults appear where they were, and the lines follow the messages.
 */

/** One fault event as the run recorded it, `runMs` after the run started. */
export interface TimelineFaultEvent {
  readonly kind: string;
  readonly action: string;
  readonly target: string;
  readonly id: string;
  readonly detail: unknown;
  readonly runMs: number;
}

/** A fault's bar: its lane, and from when to when it was in force. */
export interface FaultBar {
  readonly lane: string;
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Still in force when the run ended (drawn to the end, marked open). */
  readonly open: boolean;
}

/** Above this many lanes, partitions share one lane per direction (their targets in the tooltip). */
export const MAX_LANES = 14;

function field(detail: unknown, name: string): unknown {
  return typeof detail === "object" && detail !== null
    ? (detail as Record<string, unknown>)[name]
    : undefined;
}

/** The lane of a fault: what it is and what it acts on ("pause sink", "link pinger down"). */
function laneOf(e: TimelineFaultEvent, foldPartitions: boolean): string {
  if (e.kind === "link") return `link ${e.target} ${e.id.replace(/^link:[^/]*\//, "")}`;
  if (e.kind === "process") return `${String(field(e.detail, "action"))} ${e.target}`;
  const type = field(e.detail, "type");
  const what = typeof type === "string" ? type : e.kind;
  if (what === "partition" && foldPartitions)
    return field(e.detail, "bothWays") === true ? "partition (both ways)" : "partition (one way)";
  return `${what} ${e.target}`;
}

/**
 * The bars of a run's fault events: each start paired with its end by id; a fault with no end
 * (a run cut short, a watch lost) runs to `durationMs`, marked open. Lanes are sorted by name.
 */
export function faultBars(events: readonly TimelineFaultEvent[], durationMs: number): FaultBar[] {
  const laneCount = new Set(events.filter((e) => e.action === "start").map((e) => laneOf(e, false)))
    .size;
  const fold = laneCount > MAX_LANES;
  const starts = new Map<string, TimelineFaultEvent>();
  const bars: FaultBar[] = [];
  for (const e of [...events].sort((a, b) => a.runMs - b.runMs)) {
    if (e.action === "start") starts.set(e.id, e);
    else if (e.action === "end") {
      const start = starts.get(e.id);
      if (start === undefined) continue;
      starts.delete(e.id);
      bars.push({
        lane: laneOf(start, fold),
        id: e.id,
        startMs: start.runMs,
        endMs: e.runMs,
        open: false,
      });
    }
  }
  for (const start of starts.values())
    bars.push({
      lane: laneOf(start, fold),
      id: start.id,
      startMs: start.runMs,
      endMs: Math.max(start.runMs, durationMs),
      open: true,
    });
  return bars.sort((a, b) => a.lane.localeCompare(b.lane) || a.startMs - b.startMs);
}

/** Messages per sender → receiver pair, counted in bins of `binMs` from the run's start. */
export class PairRates {
  private readonly counts = new Map<string, number[]>();

  constructor(readonly binMs: number) {
    if (!(Number.isInteger(binMs) && binMs > 0))
      throw new RangeError(`binMs ${binMs}: expected a positive integer`);
  }

  /** One delivered message from `from` to `to` at `runMs` (before the start: ignored). */
  add(runMs: number, from: string, to: string): void {
    if (!(runMs >= 0)) return;
    const key = `${from} → ${to}`;
    let bins = this.counts.get(key);
    if (bins === undefined) this.counts.set(key, (bins = []));
    const bin = Math.floor(runMs / this.binMs);
    while (bins.length <= bin) bins.push(0);
    bins[bin] = (bins[bin] ?? 0) + 1;
  }

  /** Each pair's rate in messages per second per bin, over `bins` bins, busiest pair first. */
  series(bins: number): { readonly pair: string; readonly perSecond: number[] }[] {
    return [...this.counts]
      .map(([pair, counts]) => ({
        pair,
        total: counts.reduce((n, c) => n + c, 0),
        perSecond: Array.from({ length: bins }, (_, i) => ((counts[i] ?? 0) * 1000) / this.binMs),
      }))
      .sort((a, b) => b.total - a.total || a.pair.localeCompare(b.pair))
      .map(({ pair, perSecond }) => ({ pair, perSecond }));
  }
}

/** A bin width giving about 300 points over the run, never below 100 ms. */
export function rateBinMs(durationMs: number): number {
  return Math.max(100, Math.ceil(durationMs / 300 / 100) * 100);
}

/** The drawing's geometry, exported so a test can place what it planted. */
export const LAYOUT = {
  width: 1100,
  left: 190,
  right: 190,
  top: 40,
  laneHeight: 16,
  chartHeight: 220,
  gap: 36,
} as const;

const PLOT_WIDTH = LAYOUT.width - LAYOUT.left - LAYOUT.right;

/** The x coordinate of `ms` after the start, on a run of `durationMs`. */
export function xOf(ms: number, durationMs: number): number {
  return LAYOUT.left + (Math.min(Math.max(ms, 0), durationMs) / durationMs) * PLOT_WIDTH;
}

/** The y coordinate of the top of the rate chart, below `lanes` lanes. */
export function chartTop(lanes: number): number {
  return LAYOUT.top + Math.max(lanes, 1) * LAYOUT.laneHeight + LAYOUT.gap;
}

/** The y coordinate of `rate` in a chart scaled to `maxRate`, below `lanes` lanes. */
export function yOf(rate: number, maxRate: number, lanes: number): number {
  return chartTop(lanes) + LAYOUT.chartHeight * (1 - rate / maxRate);
}

/** Colour-blind-safe (Okabe–Ito), then greys. */
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
const BAR_COLOUR: Readonly<Record<string, string>> = {
  partition: "#D55E00",
  pause: "#CC79A7",
  link: "#0072B2",
  kill: "#000000",
  stop: "#6b6b6b",
};

/** At most this many pairs get their own line; the rest are summed into one "others" line. */
export const MAX_PAIRS = 7;

function escape(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** A tick step of 1, 2 or 5 × 10^k giving about `count` ticks up to `max`. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw) || 1;
}

export interface TimelineInput {
  readonly title: string;
  readonly durationMs: number;
  readonly bars: readonly FaultBar[];
  readonly rates: PairRates;
}

/** The timeline as a standalone SVG document. */
export function timelineSvg(input: TimelineInput): string {
  const { durationMs, bars } = input;
  const lanes = [...new Set(bars.map((b) => b.lane))];
  const binMs = input.rates.binMs;
  const bins = Math.max(1, Math.ceil(durationMs / binMs));
  let series = input.rates.series(bins);
  if (series.length > MAX_PAIRS) {
    const rest = series.slice(MAX_PAIRS - 1);
    series = [
      ...series.slice(0, MAX_PAIRS - 1),
      {
        pair: `${rest.length} other pairs`,
        perSecond: Array.from({ length: bins }, (_, i) =>
          rest.reduce((n, s) => n + (s.perSecond[i] ?? 0), 0),
        ),
      },
    ];
  }
  const maxRate = Math.max(1, ...series.flatMap((s) => s.perSecond));
  const top = chartTop(lanes.length);
  const height = top + LAYOUT.chartHeight + 50;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LAYOUT.width}" height="${height}" viewBox="0 0 ${LAYOUT.width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${LAYOUT.left}" y="20" font-size="14" font-weight="bold">${escape(input.title)}</text>`,
  ];
  // Time grid across both panels.
  const step = tickStep(durationMs / 1000, 10) * 1000;
  for (let t = 0; t <= durationMs; t += step) {
    const x = round(xOf(t, durationMs));
    out.push(
      `<line x1="${x}" y1="${LAYOUT.top - 4}" x2="${x}" y2="${top + LAYOUT.chartHeight}" stroke="#e4e4e4"/>`,
      `<text x="${x}" y="${top + LAYOUT.chartHeight + 16}" text-anchor="middle">${t / 1000}s</text>`,
    );
  }
  // Fault lanes.
  out.push(`<g class="faults">`);
  if (lanes.length === 0)
    out.push(
      `<text x="${LAYOUT.left}" y="${LAYOUT.top + 12}" fill="#6b6b6b">no fault started</text>`,
    );
  for (const [i, lane] of lanes.entries()) {
    const y = LAYOUT.top + i * LAYOUT.laneHeight;
    // A long target (a partition of many domains) is cut to fit; its tooltip has it whole.
    const label = lane.length > 32 ? `${lane.slice(0, 31)}…` : lane;
    out.push(
      `<text x="${LAYOUT.left - 6}" y="${y + 11}" text-anchor="end">${escape(label)}<title>${escape(lane)}</title></text>`,
    );
    const colour = BAR_COLOUR[lane.split(" ")[0] ?? ""] ?? "#E69F00";
    for (const bar of bars.filter((b) => b.lane === lane)) {
      const x = xOf(bar.startMs, durationMs);
      const width = Math.max(1.5, xOf(bar.endMs, durationMs) - x);
      out.push(
        `<rect class="fault" data-id="${escape(bar.id)}" x="${round(x)}" y="${y + 2}" width="${round(width)}" height="${LAYOUT.laneHeight - 4}" fill="${colour}"${bar.open ? ' fill-opacity="0.4" stroke="#000000" stroke-dasharray="2 2"' : ""}><title>${escape(`${bar.id}: ${bar.lane}, ${bar.startMs}–${bar.endMs}ms${bar.open ? " (never ended)" : ""}`)}</title></rect>`,
      );
    }
  }
  out.push(`</g>`);
  // Rate chart: axes, then one line per pair.
  const bottom = top + LAYOUT.chartHeight;
  const right = LAYOUT.width - LAYOUT.right;
  out.push(
    `<line x1="${LAYOUT.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#000000"/>`,
    `<line x1="${LAYOUT.left}" y1="${top}" x2="${LAYOUT.left}" y2="${bottom}" stroke="#000000"/>`,
    `<text x="${LAYOUT.left - 6}" y="${top - 8}" text-anchor="end">messages/s</text>`,
  );
  const rateStep = tickStep(maxRate, 4);
  for (let r = 0; r <= maxRate; r += rateStep) {
    const y = round(yOf(r, maxRate, lanes.length));
    out.push(
      `<text x="${LAYOUT.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${r}</text>`,
    );
  }
  out.push(`<g class="rates">`);
  if (series.length === 0)
    out.push(
      `<text x="${LAYOUT.left + 8}" y="${top + 16}" fill="#6b6b6b">no message rates: the run had no history of sendvs</text>`,
    );
  for (const [i, s] of series.entries()) {
    const colour = COLOURS[i % COLOURS.length] ?? "#000000";
    // Each bin's rate drawn at the bin's middle.
    const points = s.perSecond.map(
      (rate, bin) =>
        `${round(xOf(Math.min((bin + 0.5) * binMs, durationMs), durationMs))},${round(yOf(rate, maxRate, lanes.length))}`,
    );
    out.push(
      `<polyline class="rate" data-pair="${escape(s.pair)}" fill="none" stroke="${colour}" stroke-width="1.2" points="${points.join(" ")}"/>`,
      `<line x1="${right + 12}" y1="${top + 8 + i * 16}" x2="${right + 30}" y2="${top + 8 + i * 16}" stroke="${colour}" stroke-width="3"/>`,
      `<text x="${right + 36}" y="${top + 12 + i * 16}">${escape(s.pair)}</text>`,
    );
  }
  out.push(`</g>`, `</svg>`);
  return out.join("\n") + "\n";
}
