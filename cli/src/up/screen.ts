// SPDX-License-Identifier: Apache-2.0
/**
 * The full-screen view of `hmx up`, laid out for the terminal's size so that nothing wraps and
 * nothing scrolls: at 80×24 every line is at most 80 characters and the screen at most 23 lines
 * (the cursor rests on the 24th). Columns are kept by priority (domid, name, link and rates
 * first; label, totals and VIRQs only when there is room) and the workload column takes what is
 * left; rows go to the domains first, then to recent events. Wider and taller terminals get
 * more columns and more events.
 */
import type { DomainView } from "@hmx/client";
import { rate, totals, workloadSummary, type Snapshot } from "./dashboard.js";
import type { Fleet } from "./fleet.js";

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/** The size assumed when the terminal does not say (the classic VT100). */
export const DEFAULT_TERMINAL: TerminalSize = { columns: 80, rows: 24 };

/** `text` cut to `width` characters, with an ellipsis when something was cut. */
export function fit(text: string, width: number): string {
  if (width <= 0) return "";
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** As many of `parts` (most important first) as fit `width`, joined with dashes. */
function fitParts(parts: readonly string[], width: number): string {
  let line = "";
  for (const part of parts) {
    const next = line === "" ? part : `${line} — ${part}`;
    if (next.length > width) break;
    line = next;
  }
  return line === "" ? fit(parts[0] ?? "", width) : line;
}

interface Column {
  readonly title: string;
  readonly width: number;
  /** Lower is kept first. */
  readonly priority: number;
  readonly cell: (d: DomainView, now: Snapshot, before: Snapshot | undefined) => string;
}

const COLUMNS: readonly Column[] = [
  { title: "DOMID", width: 5, priority: 0, cell: (d) => String(d.domid) },
  { title: "NAME", width: 10, priority: 0, cell: (d) => d.name },
  { title: "LABEL", width: 10, priority: 5, cell: (d) => d.label },
  { title: "RINGS", width: 5, priority: 4, cell: (d) => String(d.rings) },
  {
    title: "SENT/s",
    width: 7,
    priority: 2,
    cell: (d, n, b) => String(rate(n, b, d.domid, "messagesSent")),
  },
  {
    title: "RECV/s",
    width: 7,
    priority: 1,
    cell: (d, n, b) => String(rate(n, b, d.domid, "messagesReceived")),
  },
  { title: "SENT", width: 10, priority: 6, cell: (d) => String(d.counters.messagesSent) },
  { title: "RECV", width: 10, priority: 6, cell: (d) => String(d.counters.messagesReceived) },
  { title: "ERRNO", width: 6, priority: 3, cell: (d) => String(d.counters.errors) },
  { title: "VIRQS", width: 9, priority: 7, cell: (d) => String(d.counters.virqs) },
  { title: "LINK", width: 4, priority: 1, cell: (d) => (d.connected ? "up" : "down") },
];

/** The workload column's least useful width; below it, columns make way for it. */
const MIN_WORKLOAD = 24;

/** The columns that fit `width` (in display order), and what the workload column gets. */
export function chooseColumns(width: number): { columns: Column[]; workloadWidth: number } {
  const chosen = new Set<Column>();
  let used = 0;
  for (const c of [...COLUMNS].sort((a, b) => a.priority - b.priority)) {
    if (used + c.width + 1 + MIN_WORKLOAD > width && c.priority > 0) continue;
    chosen.add(c);
    used += c.width + 1;
  }
  return {
    columns: COLUMNS.filter((c) => chosen.has(c)),
    workloadWidth: Math.max(0, width - used),
  };
}

/** The full-screen view at `size`: no line longer than its columns, fewer lines than its rows. */
export function renderScreen(
  fleet: Fleet,
  mode: string,
  now: Snapshot,
  before: Snapshot | undefined,
  startedAt: number,
  size: TerminalSize = DEFAULT_TERMINAL,
): string {
  const width = Math.max(1, size.columns);
  // The cursor rests on the line after the screen, which must not scroll it.
  const maxLines = Math.max(1, size.rows - 1);
  const uptime = Math.round((now.at - startedAt) / 1000);
  const { columns, workloadWidth } = chooseColumns(width);
  const row = (cells: string[], workload: string) =>
    fit(
      [
        ...cells.map((cell, i) => fit(cell, columns[i]?.width ?? 0).padEnd(columns[i]?.width ?? 0)),
        fit(workload, workloadWidth),
      ]
        .join(" ")
        .trimEnd(),
      width,
    );

  const head = [
    fitParts(
      [
        `hmx up ${uptime}s`,
        `hypervisor ${fleet.listen}`,
        `toolstack ${fleet.controlListen}`,
        `Argo ${mode}`,
      ],
      width,
    ),
    row(
      columns.map((c) => c.title),
      "WORKLOAD",
    ),
  ];
  const t = totals(now, before);
  const tail = [
    fit(
      `${now.domains.length} domains, ${t.rings} rings, ${t.msgsPerSec} msgs/s delivered, ${t.errnos} errnos (EAGAIN is flow control)`,
      width,
    ),
    fit("Ctrl-C stops everything; hmx status / hmx history attach from another shell.", width),
  ];
  // Domains get the rows first; one line says how many did not fit.
  const roomForDomains = Math.max(0, maxLines - head.length - tail.length);
  const shown =
    now.domains.length <= roomForDomains
      ? now.domains
      : now.domains.slice(0, Math.max(0, roomForDomains - 1));
  const domainLines = shown.map((d) => {
    const guest = fleet.guests.find((g) => g.domid === d.domid);
    return row(
      columns.map((c) => c.cell(d, now, before)),
      guest === undefined ? "" : `${guest.spec.workload}: ${workloadSummary(guest)}`,
    );
  });
  if (shown.length < now.domains.length && roomForDomains > 0)
    domainLines.push(fit(`… ${now.domains.length - shown.length} more domains`, width));
  // Events fill what is left, newest last, under a blank line and a title.
  const roomForEvents = maxLines - head.length - domainLines.length - tail.length - 2;
  const eventLines =
    roomForEvents > 0
      ? [
          "",
          fit("recent events:", width),
          ...fleet.events
            .slice(-roomForEvents)
            .map((e) =>
              fit(
                `  ${new Date(e.at).toISOString().slice(11, 19)} ${e.source.padEnd(10)} ${e.text.replace(/\s+/g, " ")}`,
                width,
              ),
            ),
        ]
      : [];
  return [...head, ...domainLines, ...eventLines, ...tail].slice(0, maxLines).join("\n");
}
