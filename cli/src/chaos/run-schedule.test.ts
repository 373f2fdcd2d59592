// SPDX-License-Identifier: Apache-2.0
/**
 * The runner keeps the schedule's times when it falls behind (a starved process, as on a loaded
 * soak host): a fault applied late still ends at its scheduled end (so one generator's faults
 * never overlap, which a link fault refuses), and a fault reached after its end is reported
 * missed, failing "faults applied", not applied out of its time.
 */
import type { FaultSpecView, ToolstackClient } from "@hmx/client";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";

import { runSchedule } from "./run-schedule.js";
import type { ScheduledFault } from "./schedule.js";

const STALL_MS = 300;

it("a fault applied late ends at its scheduled end, and one reached after its end is missed", async () => {
  const applied: { spec: FaultSpecView; at: number }[] = [];
  let start = 0;
  // A toolstack whose first apply stalls the whole process, as a starved runner would be.
  const client = {
    listDomains: () => Promise.resolve([]),
    listFaults: () => Promise.resolve([]),
    watchFaults: () => {
      let cancel: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (cancel = resolve));
      return { done, cancel };
    },
    applyFault: (spec: FaultSpecView) => {
      if (applied.length === 0) {
        start = Date.now() - 10;
        const until = Date.now() + STALL_MS;
        while (Date.now() < until) {
          // busy: nothing else runs
        }
      }
      applied.push({ spec, at: Date.now() });
      return Promise.resolve({ id: `argo-${applied.length}`, ...spec });
    },
  } as unknown as ToolstackClient;
  const pause = (from: string): ScheduledFault["fault"] => ({
    argo: { type: "pause", from: [from] },
  });
  const faults: ScheduledFault[] = [
    { atMs: 10, durationMs: 1000, source: "timeline[0]", fault: pause("a") },
    { atMs: 20, durationMs: 200, source: "timeline[1]", fault: pause("b") },
    { atMs: 30, durationMs: 900, source: "timeline[2]", fault: pause("c") },
  ];
  const out = mkdtempSync(join(tmpdir(), "hmx-run-late-"));
  try {
    const passed = await runSchedule({
      client,
      schedule: { seed: 1, durationMs: 1100, faults },
      outDir: out,
      io: { log: () => undefined, error: () => undefined },
      livenessMs: 10,
      sampleMs: 50,
    });
    assert.equal(passed, false);
    assert.deepEqual(
      applied.map((a) => ("argo" in a.spec ? a.spec.argo.from : [])),
      [["a"], ["c"]],
      "b, reached after its end, was not applied",
    );
    const late = applied[1];
    const forMs = late?.spec.durationMs;
    assert.ok(late !== undefined && forMs !== undefined);
    // c still ends at 30 + 900 ms after the start, give or take the runner's own steps.
    const end = late.at - start + forMs;
    assert.ok(Math.abs(end - 930) < 60, `c ends at ${end}ms, scheduled 930ms`);
    assert.ok(forMs <= 900 - (STALL_MS - 40), `c shortened to ${forMs}ms`);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as {
      checks: { name: string; passed: boolean; message: string; figures: Record<string, number> }[];
    };
    const check = results.checks.find((c) => c.name === "faults applied");
    assert.ok(check !== undefined);
    assert.equal(check.passed, false);
    assert.match(
      check.message,
      /1 of 3 faults refused; first at 20ms: timeline\[1\]: missed: the runner reached it \d+ms late/,
    );
    assert.ok((check.figures["maxLateMs"] ?? 0) >= STALL_MS - 40);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
