// SPDX-License-Identifier: Apache-2.0
/**
 * The flow graph: domains on a circle, an arrow per sending pair labelled with its message rate,
 * and a dashed red arrow per pair MAC denied. Redrawn whole each time (a handful of domains).
 */
import { svg } from "./dom.js";
import { FLOW_SECONDS, type Flow } from "./history-model.js";
import type { DomainState } from "./state-types.js";

const WIDTH = 400;
const HEIGHT = 300;
const NODE_RADIUS = 22;

interface Point {
  readonly x: number;
  readonly y: number;
}

function layout(domains: readonly DomainState[]): Map<number, Point> {
  const at = new Map<number, Point>();
  const r = Math.min(WIDTH, HEIGHT) / 2 - NODE_RADIUS - 16;
  domains.forEach((d, i) => {
    const angle = (2 * Math.PI * i) / domains.length - Math.PI / 2;
    at.set(d.domid, { x: WIDTH / 2 + r * Math.cos(angle), y: HEIGHT / 2 + r * Math.sin(angle) });
  });
  return at;
}

/** An arrow from `a` to `b`, bent to one side so that a→b and b→a do not overlap. */
function edge(a: Point, b: Point, bend: number): { path: string; label: Point; end: Point } {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy) || 1;
  const ux = dx / length;
  const uy = dy / length;
  const start = { x: a.x + ux * NODE_RADIUS, y: a.y + uy * NODE_RADIUS };
  const end = { x: b.x - ux * (NODE_RADIUS + 4), y: b.y - uy * (NODE_RADIUS + 4) };
  const control = { x: (a.x + b.x) / 2 - uy * bend, y: (a.y + b.y) / 2 + ux * bend };
  return {
    path: `M${start.x},${start.y} Q${control.x},${control.y} ${end.x},${end.y}`,
    label: { x: (start.x + 2 * control.x + end.x) / 4, y: (start.y + 2 * control.y + end.y) / 4 },
    end,
  };
}

function arrows(
  flows: ReadonlyMap<string, Flow>,
  at: ReadonlyMap<number, Point>,
  now: number,
  denied: boolean,
): SVGGElement[] {
  const groups: SVGGElement[] = [];
  for (const flow of flows.values()) {
    const a = at.get(flow.src);
    const b = at.get(flow.dst);
    if (a === undefined || b === undefined) continue;
    const rate = flow.perSecond.rate(now, FLOW_SECONDS);
    const { path, label } = edge(a, b, denied ? -28 : 28);
    const width = 1 + Math.min(6, Math.log10(1 + rate) * 2);
    const text = denied ? `denied ×${flow.total}` : `${rate.toFixed(1)}/s`;
    groups.push(
      svg(
        "g",
        {
          class: "edge-group",
          [denied ? "data-denied" : "data-flow"]: `${flow.src}-${flow.dst}`,
          "data-total": flow.total,
          "data-rate": rate.toFixed(2),
        },
        svg("path", {
          d: path,
          class: denied ? "edge denied" : "edge",
          "stroke-width": width.toFixed(1),
          "marker-end": denied ? "url(#arrow-denied)" : "url(#arrow)",
        }),
        svg(
          "text",
          {
            x: label.x.toFixed(1),
            y: label.y.toFixed(1),
            class: "edge-label",
            "text-anchor": "middle",
          },
          text,
        ),
      ),
    );
  }
  return groups;
}

function marker(id: string, cls: string): SVGMarkerElement {
  return svg(
    "marker",
    {
      id,
      viewBox: "0 0 10 10",
      refX: 8,
      refY: 5,
      markerWidth: 6,
      markerHeight: 6,
      orient: "auto-start-reverse",
    },
    svg("path", { d: "M0,0 L10,5 L0,10 z", class: cls }),
  );
}

export function drawFlows(
  target: SVGSVGElement,
  domains: readonly DomainState[],
  flows: ReadonlyMap<string, Flow>,
  deniedFlows: ReadonlyMap<string, Flow>,
  now: number,
): void {
  const at = layout(domains);
  const nodes = domains.map((d) => {
    const p = at.get(d.domid) ?? { x: 0, y: 0 };
    return svg(
      "g",
      { class: d.link === "up" ? "node" : "node down", "data-node": d.domid },
      svg("circle", { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: NODE_RADIUS }),
      svg(
        "text",
        { x: p.x.toFixed(1), y: (p.y + 4).toFixed(1), "text-anchor": "middle" },
        `vm${d.domid}`,
      ),
      svg(
        "text",
        { x: p.x.toFixed(1), y: (p.y + NODE_RADIUS + 14).toFixed(1), "text-anchor": "middle" },
        d.name,
      ),
    );
  });
  target.replaceChildren(
    svg("defs", {}, marker("arrow", "arrow-head"), marker("arrow-denied", "arrow-head denied")),
    ...arrows(flows, at, now, false),
    ...arrows(deniedFlows, at, now, true),
    ...nodes,
  );
}
