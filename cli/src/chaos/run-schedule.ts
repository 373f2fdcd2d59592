// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx chaos run FILE`: plays an expanded schedule against a running hypervisor through the
 * toolstack — each fault applied at its time with its duration, process faults through
 * process-faults.ts — while recording every fault event (WatchFaults), following the
 * hypervisor's history for the MAC check and sampling its delivered-message count, then runs the
 * checks and writes DIR/history.jsonl, results.json, junit.xml and summary.txt. The result is
 * true only if every check passed.
 */
import { HistorySubscriber, type FaultEventView, type ToolstackClient } from "@hmx/client";
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
import {
  checkMacRespected,
  checkNoDuplication,
  checkNoLoss,
  checkPerPairFifo,
  type MacHistoryEvent,
  type ReceiverFigures,
} from "./delivery-checks.js";
import { applyProcessFault, type ProcessFault } from "./process-faults.js";
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
  /** The hypervisor's history listener, for the MAC check (without it the check is skipped). */
  readonly history?: { readonly address: string; readonly adminToken: string };
  /**
   * The receiving workloads' figures at the end of the run, for the loss, duplication and FIFO
   * checks (without it they are skipped): the `hmx up` fleet's sinks, or the compose fleet's
   * guests (docker-fleet.ts).
   */
  readonly receivers?: () => readonly ReceiverFigures[] | Promise<readonly ReceiverFigures[]>;
  /** Applies a process fault (default: signals the `hmx up` fleet's process). */
  readonly processFault?: (fault: ProcessFault) => Promise<string>;
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
  // A hypervisor killed mid-run ends the watch: the faults it had in force then have no end
  // event, and "every fault healed" fails, naming them (the watch is not resumed yet).
  let watchLost: string | undefined;
  void watch.done.catch((err: unknown) => {
    watchLost = describeError(err);
  });
  const samples: DeliverySample[] = [];
  const stopSampling = new AbortController();
  const sampler = (async () => {
    while (!stopSampling.signal.aborted) {
      try {
        samples.push({ timeMs: Date.now() - start, delivered: await delivered(client) });
      } catch {
        // The hypervisor is restarting: no sample, so no movement is shown for this instant.
      }
      await sleep(options.sampleMs ?? 100);
    }
  })();

  const macEvents: MacHistoryEvent[] = [];
  const history =
    options.history === undefined
      ? undefined
      : new HistorySubscriber({
          ...options.history,
          kinds: ["hypercall", "mac"],
          onEvent: (e: MacHistoryEvent) => {
            // Only what the MAC check reads: a day-long soak must not hold every ping.
            if (e.kind !== "hypercall" || e["type"] === "ok") macEvents.push(e);
          },
        });

  // A history that could not be followed counts as a gap: the MAC check then fails, saying so.
  void history?.done.catch((err: unknown) => {
    io.log(`the history could not be followed: ${(err as Error).message}`);
    macEvents.push({ kind: "gap" });
  });

  const applied: AppliedFault[] = [];
  // Process faults end outside the hypervisor: their ends are recorded here, like fault events.
  const processEnds: FaultEventView[] = [];
  const pending: Promise<void>[] = [];
  const processFault = options.processFault ?? ((fault) => applyProcessFault(fault));
  for (const [i, f] of schedule.faults.entries()) {
    const wait = start + f.atMs - Date.now();
    if (wait > 0) await sleep(wait);
    if ("process" in f.fault) {
      const id = `process-${i + 1}`;
      const fault: ProcessFault = { ...f.fault.process, forMs: f.durationMs };
      const done = processFault(fault).then(
        () => {
          const detail = { ...fault };
          processEnds.push({
            kind: "process",
            action: "end",
            target: fault.target,
            id,
            detail,
            timeMs: Date.now(),
          });
        },
        (err: unknown) => {
          applied[slot] = { atMs: f.atMs, refused: `${f.source}: ${(err as Error).message}` };
        },
      );
      const slot = applied.push({ atMs: f.atMs, id }) - 1;
      pending.push(done);
      continue;
    }
    try {
      const view = await client.applyFault({ ...f.fault, durationMs: f.durationMs });
      applied.push({ atMs: f.atMs, id: view.id });
    } catch (err) {
      applied.push({ atMs: f.atMs, refused: `${f.source}: ${describeError(err)}` });
    }
  }
  await Promise.all(pending);
  // Every fault has ended by its own duration; then give liveness its window after the last heal.
  const lastEnd = Math.max(0, ...schedule.faults.map((f) => f.atMs + f.durationMs));
  const tail = start + Math.max(lastEnd, schedule.durationMs) + livenessMs - Date.now();
  if (tail > 0) await sleep(tail);
  stopSampling.abort();
  await sampler;
  const inForce = (await client.listFaults()).map((f) => f.id);
  watch.cancel();
  await watch.done.catch(() => undefined);

  history?.close();
  if (watchLost !== undefined) io.log(`the fault watch ended early: ${watchLost}`);
  const ended = [...events.filter((e) => e.action === "end"), ...processEnds];
  const receivers = await options.receivers?.();
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
    ...(receivers === undefined
      ? []
      : [checkNoLoss(receivers), checkNoDuplication(receivers), checkPerPairFifo(receivers)]),
    ...(history === undefined ? [] : [checkMacRespected(macEvents)]),
  ];
  if (receivers === undefined)
    io.log("no loss/duplication/FIFO checks: no hmx up or compose fleet to read figures from");
  if (history === undefined) io.log("no MAC check: the hypervisor's history listener is not known");
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
