// SPDX-License-Identifier: Apache-2.0
/** The rate chart: messages and MAC denials per second over the last minute, as SVG lines. */
import { svg } from "./dom.js";
import { CHART_SECONDS } from "./history-model.js";

const WIDTH = 400;
const HEIGHT = 200;
const LEFT = 44;
const BOTTOM = 18;
const TOP = 8;

export interface Series {
  readonly name: string;
  /** Count in a whole second. */
  readonly at: (second: number) => number;
}

/** A round axis maximum at or above `n` (1, 2, 5 × 10^k). */
export function niceCeiling(n: number): number {
  if (n <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

export function drawRates(target: SVGSVGElement, series: readonly Series[], now: number): void {
  // The current second is still filling: the chart ends at the last whole one.
  const seconds = Array.from({ length: CHART_SECONDS }, (_, i) => now - CHART_SECONDS + i);
  const values = series.map((s) => seconds.map((second) => s.at(second)));
  const max = niceCeiling(Math.max(1, ...values.flat()));
  const x = (i: number): number => LEFT + ((WIDTH - LEFT - 4) * i) / (CHART_SECONDS - 1);
  const y = (v: number): number => TOP + (HEIGHT - TOP - BOTTOM) * (1 - v / max);
  const lines = series.map((s, k) =>
    svg("polyline", {
      class: `series ${s.name}`,
      "data-series": s.name,
      "data-last": values[k]?.at(-1) ?? 0,
      "data-peak": Math.max(0, ...(values[k] ?? [])),
      points: (values[k] ?? []).map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "),
    }),
  );
  target.replaceChildren(
    svg("line", { class: "axis", x1: LEFT, y1: y(0), x2: WIDTH - 4, y2: y(0) }),
    svg("line", { class: "axis", x1: LEFT, y1: TOP, x2: LEFT, y2: y(0) }),
    svg("text", { x: LEFT - 4, y: TOP + 10, "text-anchor": "end" }, String(max)),
    svg("text", { x: LEFT - 4, y: y(0), "text-anchor": "end" }, "0"),
    svg("text", { x: LEFT, y: HEIGHT - 2 }, `−${CHART_SECONDS} s`),
    svg("text", { x: WIDTH - 4, y: HEIGHT - 2, "text-anchor": "end" }, "now"),
    ...lines,
  );
}
