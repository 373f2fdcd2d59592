// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx chaos run FILE`: plays an expanded schedule against a running hypervisor through the
 * toolstack — each fault applied at its time with its duration — while recording every fault
 * event (WatchFaults) and sampling the hypervisor's delivered-message count, then runs the
 * checks and writes DIR/history.jsonl, results.json, junit.xml and summary.txt. The result is
 * true only if every check passed.
 */
import type { FaultEventView, ToolstackClient } from "@hmx/client";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import type { CommandIo } from "../commands/control.js";
import { describeError } from "../commands/control.js";
import {
  checkAllApplied,
  checkAllHealed,
  checkLiveness,
  junitXml,
  type AppliedFault,
  type CheckResult,
  type DeliverySample,
} from "./checkers.js";
import type { ExpandedSchedule } from "./schedule.js";

export interface RunOptions {
  readonly client: ToolstackClient;
  readonly schedule: ExpandedSchedule;
  readonly outDir: string;
  readonly io: CommandIo;
  /** Messages must move again within this long after each heal. */
  readonly livenessMs: number;
  /** How often the delivered-message count is sampled. */
  readonly sampleMs?: number;
}

async function delivered(client: ToolstackClient): Promise<number> {
  const domains = await client.listDomains();
  return domains.reduce((n, d) => n + d.counters.messagesReceived, 0);
}

export async function runSchedule(options: RunOptions): Promise<boolean> {
  const { client, schedule, outDir, io, livenessMs } = options;
  mkdirSync(outDir, { recursive: true });
  io.log(
    `seed ${schedule.seed}: ${schedule.faults.length} faults over ${schedule.durationMs}ms (replay with --seed ${schedule.seed})`,
  );
  const start = Date.now();
  const events: FaultEventView[] = [];
  const watch = client.watchFaults((e) => events.push(e));
  const samples: DeliverySample[] = [];
  const stopSampling = new AbortController();
  const sampler = (async () => {
    while (!stopSampling.signal.aborted) {
      samples.push({ timeMs: Date.now() - start, delivered: await delivered(client) });
      await sleep(options.sampleMs ?? 100);
    }
  })();

  const applied: AppliedFault[] = [];
  for (const f of schedule.faults) {
    const wait = start + f.atMs - Date.now();
    if (wait > 0) await sleep(wait);
    try {
      const view = await client.applyFault({ ...f.fault, durationMs: f.durationMs });
      applied.push({ atMs: f.atMs, id: view.id });
    } catch (err) {
      applied.push({ atMs: f.atMs, refused: `${f.source}: ${describeError(err)}` });
    }
  }
  // Every fault has ended by its own duration; then give liveness its window after the last heal.
  const lastEnd = Math.max(0, ...schedule.faults.map((f) => f.atMs + f.durationMs));
  const tail = start + Math.max(lastEnd, schedule.durationMs) + livenessMs - Date.now();
  if (tail > 0) await sleep(tail);
  stopSampling.abort();
  await sampler;
  const inForce = (await client.listFaults()).map((f) => f.id);
  watch.cancel();
  await watch.done.catch(() => undefined);

  const ended = events.filter((e) => e.action === "end");
  const checks: CheckResult[] = [
    checkAllApplied(applied),
    checkAllHealed(
      applied.flatMap((a) => (a.id === undefined ? [] : [a.id])),
      new Set(ended.map((e) => e.id)),
      inForce,
    ),
    checkLiveness(
      ended.map((e) => e.timeMs - start),
      samples,
      livenessMs,
    ),
  ];
  const passed = checks.every((c) => c.passed);
  writeFileSync(
    join(outDir, "history.jsonl"),
    events.map((e) => JSON.stringify({ ...e, runMs: e.timeMs - start })).join("\n") + "\n",
  );
  writeFileSync(
    join(outDir, "results.json"),
    JSON.stringify(
      { seed: schedule.seed, passed, faults: schedule.faults.length, checks, samples },
      null,
      2,
    ) + "\n",
  );
  writeFileSync(join(outDir, "junit.xml"), junitXml("hmx chaos", checks));
  const summary = [
    `hmx chaos run: ${passed ? "PASSED" : "FAILED"} (seed ${schedule.seed}, ${schedule.faults.length} faults)`,
    ...checks.map((c) => `  ${c.passed ? "ok  " : "FAIL"} ${c.name}: ${c.message}`),
  ];
  writeFileSync(join(outDir, "summary.txt"), summary.join("\n") + "\n");
  for (const line of summary) io.log(line);
  return passed;
}
