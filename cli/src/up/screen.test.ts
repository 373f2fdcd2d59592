// SPDX-License-Identifier: Apache-2.0
/**
 * The `hmx up` screen fits its terminal: at 80×24 nothing wraps (no line over 80 characters) and
 * nothing scrolls (at most 23 lines, the cursor resting on the 24th), with the default fleet's
 * eight domains, long workload summaries and long events; columns are dropped by priority and
 * come back on a wider terminal; with more domains than rows the totals still show.
 */
import type { DomainView } from "@hmx/client";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Snapshot } from "./dashboard.js";
import type { Fleet } from "./fleet.js";
import { chooseColumns, renderScreen, type TerminalSize } from "./screen.js";

const NAMES = ["echo", "sink", "pinger", "streamer", "vbackend", "vdemo1", "vdemo2", "vrogue"];

function domain(i: number): DomainView {
  return {
    domid: i + 1,
    name: NAMES[i] ?? `extra-domain-with-a-long-name-${i}`,
    label: `${NAMES[i] ?? "extra"}_t_with_a_long_label`,
    memoryBytes: 16 << 20,
    memoryResidentBytes: 1 << 20,
    rings: 7,
    connected: i % 2 === 0,
    privileged: false,
    counters: {
      hypercalls: 123456789,
      errors: 12345,
      messagesSent: 987654321 * (i + 1),
      bytesSent: 1e12,
      messagesReceived: 987654321 * (i + 1),
      bytesReceived: 1e12,
      virqs: 123456789,
    },
  };
}

function world(domains: number, events: number): { fleet: Fleet; now: Snapshot; before: Snapshot } {
  const all = Array.from({ length: domains }, (_, i) => domain(i));
  const stats = {
    rttP50Us: 25267,
    rttP99Us: 202140,
    devices: 3,
    blkWrites: 48,
    blkReads: 48,
    netFramesSwitched: 82,
    sent: 64030,
    received: 64030,
    lost: 0,
    eagains: 1,
  };
  const fleet = {
    listen: "127.0.0.1:40123",
    controlListen: "127.0.0.1:40124",
    guests: all.map((d) => ({
      domid: d.domid,
      spec: { name: d.name, label: d.label, workload: "virtio-demo", args: [] },
      stats,
      ready: true,
      child: { running: true },
    })),
    events: Array.from({ length: events }, (_, i) => ({
      at: 1_700_000_000_000 + i,
      source: "vrogue",
      text: `device probe failed: register ring: -EACCES (-13)\n${"because the policy says so ".repeat(8)} #${i}`,
    })),
  } as unknown as Fleet;
  const before: Snapshot = { at: 1000, domains: all };
  const later = all.map((d) => ({
    ...d,
    counters: { ...d.counters, messagesSent: d.counters.messagesSent + 2_000_000 },
  }));
  return { fleet, before, now: { at: 2000, domains: later } };
}

function screen(size: TerminalSize, domains = 8, events = 50): string[] {
  const { fleet, now, before } = world(domains, events);
  const mode = "mode: mac-permissive (wildcard rings allowed)";
  return renderScreen(fleet, mode, now, before, 0, size).split("\n");
}

function assertFits(lines: string[], size: TerminalSize): void {
  assert.ok(lines.length <= size.rows - 1, `${lines.length} lines at ${size.rows} rows`);
  for (const line of lines)
    assert.ok(line.length <= size.columns, `${line.length} > ${size.columns}: ${line}`);
  for (const line of lines) assert.doesNotMatch(line, /[\n\r\t]/);
}

describe("the hmx up screen", () => {
  it("at 80x24 nothing wraps and nothing scrolls, and all eight domains and the totals show", () => {
    const size = { columns: 80, rows: 24 };
    const lines = screen(size);
    assertFits(lines, size);
    for (const name of NAMES)
      assert.ok(
        lines.some((l) => new RegExp(`^\\d+\\s+${name}\\s`).test(l)),
        `${name} is on the screen`,
      );
    assert.ok(lines.some((l) => l.startsWith("8 domains, 56 rings")));
    assert.ok(lines.some((l) => l.startsWith("recent events:")));
  });

  it("at 80 columns the columns kept are the high-priority ones, and the workload gets the rest", () => {
    const { columns, workloadWidth } = chooseColumns(80);
    assert.deepEqual(
      columns.map((c) => c.title),
      ["DOMID", "NAME", "RINGS", "SENT/s", "RECV/s", "ERRNO", "LINK"],
    );
    assert.ok(workloadWidth >= 24, `workload gets ${workloadWidth}`);
    const header = screen({ columns: 80, rows: 24 })[1] ?? "";
    assert.match(header, /^DOMID\s+NAME\s+RINGS\s+SENT\/s\s+RECV\/s\s+ERRNO\s+LINK\s+WORKLOAD$/);
  });

  it("a wider and taller terminal gets every column and more events", () => {
    const size = { columns: 200, rows: 50 };
    const lines = screen(size);
    assertFits(lines, size);
    assert.match(lines[1] ?? "", /LABEL.*SENT\s+RECV.*VIRQS.*WORKLOAD/);
    const events = (s: string[]) => s.filter((l) => l.startsWith("  ") && l.includes("vrogue"));
    assert.ok(events(lines).length > events(screen({ columns: 80, rows: 24 })).length);
  });

  it("more domains than rows: the screen still fits, says how many are hidden, and keeps the totals", () => {
    const size = { columns: 80, rows: 24 };
    const lines = screen(size, 40);
    assertFits(lines, size);
    assert.ok(lines.some((l) => /^… \d+ more domains$/.test(l)));
    assert.ok(lines.some((l) => l.startsWith("40 domains,")));
    assert.ok(lines.at(-1)?.startsWith("Ctrl-C stops everything"));
  });

  it("tiny and odd sizes still fit", () => {
    for (const size of [
      { columns: 40, rows: 10 },
      { columns: 20, rows: 5 },
      { columns: 81, rows: 25 },
      { columns: 132, rows: 43 },
    ])
      assertFits(screen(size), size);
  });
});
