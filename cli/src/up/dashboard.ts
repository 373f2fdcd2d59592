// SPDX-License-Identifier: Apache-2.0
/**
 * What `hmx up` shows: a full-screen table redrawn in place on a terminal (screen.ts); when stdout is a pipe
 * or a file (CI logs, `| tee`), one short status line every few seconds (well under 200
 * characters, however many guests) plus one line per new warning, or with `--json` one JSON
 * object per refresh holding every guest's numbers. Rates come from the difference between two
 * toolstack snapshots, so they are the hypervisor's own counts.
 */
import type { DomainView } from "@hmx/client";
import type { Fleet, FleetEvent, GuestState } from "./fleet.js";

export interface Snapshot {
  readonly at: number;
  readonly domains: readonly DomainView[];
}

/** Messages per second of one domain between two snapshots (0 without an earlier one). */
export function rate(
  now: Snapshot,
  before: Snapshot | undefined,
  domid: number,
  key: "messagesSent" | "messagesReceived",
): number {
  if (before === undefined) return 0;
  const a = before.domains.find((d) => d.domid === domid);
  const b = now.domains.find((d) => d.domid === domid);
  if (a === undefined || b === undefined) return 0;
  const seconds = (now.at - before.at) / 1000;
  return seconds > 0 ? Math.round((b.counters[key] - a.counters[key]) / seconds) : 0;
}

/** The workload numbers worth a glance, from a guest's last stats record. */
export function workloadSummary(guest: GuestState): string {
  const s = guest.stats;
  if (s === undefined) return guest.ready ? "running" : "starting";
  const n = (key: string) => {
    const v = s[key];
    return typeof v === "number" ? v : undefined;
  };
  const parts: string[] = [];
  const p50 = n("rttP50Us");
  const p99 = n("rttP99Us");
  // A guest that has no round trip yet (or never pings) shows no RTT rather than zeros.
  if (p50 !== undefined && p50 > 0)
    parts.push(`rtt p50 ${(p50 / 1000).toFixed(2)} ms p99 ${((p99 ?? 0) / 1000).toFixed(2)} ms`);
  // virtio-argo guests report device traffic (workloads/virtio-*.ts).
  for (const key of [
    "devices",
    "failedDevices",
    "frontends",
    "blkWrites",
    "blkReads",
    "blkVerifyErrors",
    "netFramesSwitched",
    "consoleBytes",
    "pings",
    "sent",
    "received",
    "lost",
    "unreachable",
    "gaps",
    "duplicates",
    "reordered",
    "eagains",
    "errors",
  ]) {
    const v = n(key);
    if (v !== undefined) parts.push(`${key} ${v}`);
  }
  return parts.join(", ");
}

export function totals(
  now: Snapshot,
  before: Snapshot | undefined,
): { rings: number; msgsPerSec: number; errnos: number } {
  let rings = 0;
  let msgsPerSec = 0;
  let errnos = 0;
  for (const d of now.domains) {
    rings += d.rings;
    errnos += d.counters.errors;
    msgsPerSec += rate(now, before, d.domid, "messagesReceived");
  }
  return { rings, msgsPerSec, errnos };
}

/** The most a plain status or event line may take (a log line, not a screen). */
export const MAX_LINE = 160;

/** The counters of a guest's stats that mean data went wrong (all zero in a healthy fleet). */
const DATA_ERROR_KEYS = ["lost", "gaps", "duplicates", "reordered", "blkVerifyErrors"] as const;

function numberOf(stats: Record<string, unknown> | undefined, key: string): number {
  const v = stats?.[key];
  return typeof v === "number" ? v : 0;
}

/** The short line for pipes and logs: the fleet's health at a glance, bounded in length. */
export function renderLine(
  fleet: Fleet,
  now: Snapshot,
  before: Snapshot | undefined,
  startedAt: number,
): string {
  const t = totals(now, before);
  const uptime = Math.round((now.at - startedAt) / 1000);
  const running = fleet.guests.filter((g) => g.child.running).length;
  const p50s = fleet.guests.map((g) => numberOf(g.stats, "rttP50Us")).filter((v) => v > 0);
  const dataErrors = fleet.guests.reduce(
    (sum, g) => sum + DATA_ERROR_KEYS.reduce((n, k) => n + numberOf(g.stats, k), 0),
    0,
  );
  const parts = [
    `${running}/${fleet.guests.length} guests running`,
    `${now.domains.length} domains`,
    `${t.rings} rings`,
    `${t.msgsPerSec} msgs/s`,
    `${t.errnos} errnos`,
    ...(p50s.length > 0 ? [`rtt p50 ${(Math.max(...p50s) / 1000).toFixed(2)} ms`] : []),
    `${dataErrors} data errors`,
  ];
  return truncate(`hmx up ${uptime}s: ${parts.join(", ")}`);
}

/** A fleet event (a guest's warning, an exit) as one bounded log line. */
export function renderEvent(event: FleetEvent): string {
  return truncate(`hmx up: ${event.source === "hmx up" ? "" : `${event.source}: `}${event.text}`);
}

function truncate(line: string): string {
  const flat = line.replace(/\s+/g, " ");
  return flat.length <= MAX_LINE ? flat : `${flat.slice(0, MAX_LINE - 1)}…`;
}

/** `--json`: one object per refresh with the totals, every domain's counters and guest's stats. */
export function statusRecord(
  fleet: Fleet,
  now: Snapshot,
  before: Snapshot | undefined,
  startedAt: number,
): Record<string, unknown> {
  return {
    msg: "status",
    uptimeSeconds: Math.round((now.at - startedAt) / 1000),
    ...totals(now, before),
    domains: now.domains.map((d) => ({
      domid: d.domid,
      name: d.name,
      label: d.label,
      rings: d.rings,
      connected: d.connected,
      sentPerSec: rate(now, before, d.domid, "messagesSent"),
      receivedPerSec: rate(now, before, d.domid, "messagesReceived"),
      counters: d.counters,
    })),
    guests: Object.fromEntries(
      fleet.guests.map((g) => {
        const {
          level: _level,
          time: _time,
          pid: _pid,
          hostname: _hostname,
          name: _name,
          msg: _msg,
          ...stats
        } = g.stats ?? {};
        return [
          g.spec.name,
          {
            domid: g.domid,
            workload: g.spec.workload,
            running: g.child.running,
            ready: g.ready,
            stats,
          },
        ];
      }),
    ),
  };
}
