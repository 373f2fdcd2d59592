// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx chaos run FILE`: plays an expanded schedule against a running hypervisor through the
 * toolstack — each fault applied at its time with its duration, process faults through
 * process-faults.ts — while recording every fault event (WatchFaults), following the
 * hypervisor's history for the MAC check and sampling its delivered-message count, then runs the
 * checks and writes DIR/history.jsonl, results.json, junit.xml, summary.txt and timeline.svg
 * (the faults against per-pair message rates from the history: timeline.ts). The result is true
 * only if every check passed. A hypervisor killed or restarted by the schedule
 * (hypervisor-faults.ts) is an outage the run rides out: the fault watch and the history
 * subscription resume on the new hypervisor, and the faults it lost are applied again there for
 * the rest of their scheduled time (recorded as re-applied: history.jsonl `reappliedFrom`,
 * results.json `reapplied`).
 */
import {
  HistorySubscriber,
  type DomainView,
  type FaultEventView,
  type ToolstackClient,
} from "@hmx/client";
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
  MacRespectedCheck,
  checkNoDuplication,
  checkNoLoss,
  checkPerPairFifo,
  type MacHistoryEvent,
  type ReceiverFigures,
} from "./delivery-checks.js";
import { epochId, ResumingFaultWatch } from "./hypervisor-fault-watch.js";
import {
  endsByRestart,
  faultsToReapply,
  hypervisorOutage,
  isHypervisorOutage,
  type HeldFault,
  type HypervisorRestart,
} from "./hypervisor-faults.js";
import { applyProcessFault, type ProcessFault } from "./process-faults.js";
import type { ExpandedSchedule } from "./schedule.js";
import { PairRates, faultBars, rateBinMs, timelineSvg } from "./timeline.js";

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
  /**
   * How long a killed or restarted hypervisor may take to answer again (default 60 s, or the
   * fault's own `for` when longer).
   */
  readonly hypervisorDeadlineMs?: number;
  /**
   * Whether the faults a dead hypervisor held are applied again on the new one for the rest of
   * their scheduled time (default true). False lets them end with the run that held them; a
   * test plants it to show the re-apply is what keeps a partition across a restart.
   */
  readonly reapplyAfterRestart?: boolean;
}

/** A fault applied again on a new hypervisor run: its new id, the id it continues, for how long. */
export interface ReappliedFault {
  readonly id: string;
  readonly from: string;
  readonly epoch: number;
  readonly forMs: number;
  readonly source: string;
}

/** Consecutive failed history reconnections before the MAC check gives up (~5 min). */
const HISTORY_RECONNECT_ATTEMPTS = 70;

function delivered(domains: readonly DomainView[]): number {
  return domains.reduce((n, d) => n + d.counters.messagesReceived, 0);
}

/** A successful sendv in the history: its sender, its receiver and when (for the rates). */
function sendvPair(e: MacHistoryEvent): { from: number; to: number; timeMs: number } | undefined {
  if (e.kind !== "hypercall" || e["f"] !== "sendv" || e["type"] !== "ok") return undefined;
  const to = (e["value"] as { dst?: { domid?: unknown } } | undefined)?.dst?.domid;
  const from = e["process"];
  const timeMs = typeof e["time"] === "string" ? Date.parse(e["time"]) : NaN;
  return typeof from === "number" && typeof to === "number" && !Number.isNaN(timeMs)
    ? { from, to, timeMs }
    : undefined;
}

export async function runSchedule(options: RunOptions): Promise<boolean> {
  const { client, schedule, outDir, io, livenessMs } = options;
  mkdirSync(outDir, { recursive: true });
  io.log(
    `seed ${schedule.seed}: ${schedule.faults.length} faults over ${schedule.durationMs}ms (replay with --seed ${schedule.seed})`,
  );
  // Domain names for the rate lines, kept current by the sampler (a restarted guest keeps its domid).
  const names = new Map<number, string>();
  const learnNames = (domains: readonly DomainView[]) => {
    for (const d of domains) names.set(d.domid, d.name);
    return domains;
  };
  learnNames(await client.listDomains());
  const name = (domid: number) => names.get(domid) ?? `domain ${domid}`;
  const rates = new PairRates(rateBinMs(schedule.durationMs));
  const start = Date.now();
  const events: FaultEventView[] = [];
  const applied: AppliedFault[] = [];
  // Toolstack faults with the hypervisor run (epoch) that holds them, for endsByRestart and
  // for applying them again on a new run.
  const held: HeldFault[] = [];
  const reapplied: ReappliedFault[] = [];
  /** Applies again, on the run that just answered, what the dead one held and is not over. */
  const reapply = async ({ epoch }: HypervisorRestart): Promise<void> => {
    if (options.reapplyAfterRestart === false) return;
    const superseded = new Set(reapplied.map((r) => r.from));
    for (const { fault, forMs } of faultsToReapply(held, superseded, epoch, Date.now())) {
      try {
        const view = await client.applyFault({ ...fault.spec, durationMs: forMs });
        const id = epochId(view.id, epoch);
        held.push({ ...fault, id, epoch });
        reapplied.push({ id, from: fault.id, epoch, forMs, source: fault.source });
      } catch (err) {
        applied.push({
          atMs: Date.now() - start,
          refused: `${fault.source}: applying ${fault.id} again after the hypervisor restart: ${describeError(err)}`,
        });
      }
    }
  };
  // Resumed on the new hypervisor after a kill or restart (hypervisor-fault-watch.ts), where
  // the faults the old one lost are applied again before any other.
  const watch = new ResumingFaultWatch(client, (e) => events.push(e), { onResume: reapply });
  await watch.ready();
  const samples: DeliverySample[] = [];
  const stopSampling = new AbortController();
  const sampler = (async () => {
    while (!stopSampling.signal.aborted) {
      try {
        const domains = learnNames(await client.listDomains());
        samples.push({ timeMs: Date.now() - start, delivered: delivered(domains) });
      } catch {
        // The hypervisor is restarting: no sample, so no movement is shown for this instant.
      }
      await sleep(options.sampleMs ?? 100);
    }
  })();

  const mac = new MacRespectedCheck();
  const history =
    options.history === undefined
      ? undefined
      : new HistorySubscriber({
          ...options.history,
          kinds: ["hypercall", "mac"],
          // A hypervisor restart is an outage of seconds: keep resuming through it.
          maxAttempts: HISTORY_RECONNECT_ATTEMPTS,
          onEvent: (e: MacHistoryEvent) => {
            const sent = sendvPair(e);
            if (sent !== undefined) rates.add(sent.timeMs - start, name(sent.from), name(sent.to));
            mac.add(e);
          },
        });

  // A history that could not be followed counts as a gap: the MAC check then fails, saying so.
  void history?.done.catch((err: unknown) => {
    io.log(`the history could not be followed: ${(err as Error).message}`);
    mac.add({ kind: "gap" });
  });

  // Process faults happen outside the hypervisor: their starts and ends are recorded here, like
  // fault events (a hypervisor outage's end is when the new hypervisor answered).
  const processEvents: FaultEventView[] = [];
  const pending: Promise<void>[] = [];
  const processFault =
    options.processFault ??
    (async (fault: ProcessFault): Promise<string> => {
      if (!isHypervisorOutage(fault)) return applyProcessFault(fault);
      // The fault lasts until the new hypervisor answers; its `for` may extend the deadline.
      const outage = await hypervisorOutage(fault, {
        answers: () => client.listDomains(),
        deadlineMs: Math.max(options.hypervisorDeadlineMs ?? 60_000, fault.forMs ?? 0),
      });
      await watch.ready();
      return `${outage.line}; answering again after ${outage.backAtMs - outage.signalledAtMs}ms`;
    });
  // The hypervisor outage in progress: no toolstack fault is applied until it answers again.
  let outage: Promise<void> = Promise.resolve();
  for (const [i, f] of schedule.faults.entries()) {
    const wait = start + f.atMs - Date.now();
    if (wait > 0) await sleep(wait);
    // A runner that fell behind (a starved process) still ends each fault at its scheduled
    // time, so a generator's faults keep from overlapping; one reached after its end is missed.
    const lateMs = Math.max(0, Date.now() - start - f.atMs);
    const forMs = f.durationMs - lateMs;
    if (forMs < 1) {
      applied.push({
        atMs: f.atMs,
        lateMs,
        refused: `${f.source}: missed: the runner reached it ${lateMs}ms late, after its scheduled end`,
      });
      continue;
    }
    if ("process" in f.fault) {
      const id = `process-${i + 1}`;
      const fault: ProcessFault = { ...f.fault.process, forMs };
      const hypervisor = isHypervisorOutage(fault);
      if (hypervisor) await outage;
      const processEvent = (action: "start" | "end"): FaultEventView => ({
        kind: "process",
        action,
        target: fault.target,
        id,
        detail: { ...fault },
        timeMs: Date.now(),
      });
      processEvents.push(processEvent("start"));
      const done = processFault(fault).then(
        () => {
          processEvents.push(processEvent("end"));
        },
        (err: unknown) => {
          applied[slot] = {
            atMs: f.atMs,
            lateMs,
            refused: `${f.source}: ${(err as Error).message}`,
          };
        },
      );
      const slot = applied.push({ atMs: f.atMs, lateMs, id }) - 1;
      if (hypervisor) outage = done;
      pending.push(done);
      continue;
    }
    await outage;
    await watch.ready();
    try {
      const epoch = watch.epoch;
      const view = await client.applyFault({ ...f.fault, durationMs: forMs });
      const recorded = epochId(view.id, epoch);
      applied.push({ atMs: f.atMs, lateMs, id: recorded });
      held.push({
        id: recorded,
        epoch,
        spec: f.fault,
        endsAtMs: start + f.atMs + f.durationMs,
        source: f.source,
      });
    } catch (err) {
      applied.push({ atMs: f.atMs, lateMs, refused: `${f.source}: ${describeError(err)}` });
    }
  }
  await Promise.all(pending);
  // Every fault has ended by its own duration; then give liveness its window after the last heal.
  const lastEnd = Math.max(0, ...schedule.faults.map((f) => f.atMs + f.durationMs));
  const tail = start + Math.max(lastEnd, schedule.durationMs) + livenessMs - Date.now();
  if (tail > 0) await sleep(tail);
  stopSampling.abort();
  await sampler;
  await watch.ready();
  const inForce = (await client.listFaults()).map((f) => epochId(f.id, watch.epoch));
  await watch.cancel();

  history?.close();
  for (const [n, reason] of watch.losses.entries())
    io.log(
      `the fault watch was lost (${reason}) and resumed on hypervisor run ${watch.restarts[n]?.epoch ?? "(not resumed)"}`,
    );
  const watched = events.filter((e) => e.action === "end");
  // Faults the dead hypervisor held ended with it: the new one starts with none.
  const restartEnds = endsByRestart(held, new Set(watched.map((e) => e.id)), watch.restarts);
  if (restartEnds.length > 0)
    io.log(`${restartEnds.length} faults ended by a hypervisor restart (not kept in its state)`);
  // A fault applied again goes on under its new id: its old id's restart end is no heal.
  const continuedAs = new Map(reapplied.map((r) => [r.from, r.id]));
  const reappliedFrom = new Map(reapplied.map((r) => [r.id, r.from]));
  if (reapplied.length > 0)
    io.log(
      `${reapplied.length} faults applied again on the restarted hypervisor for the rest of their time: ${reapplied
        .slice(0, 5)
        .map((r) => `${r.from} as ${r.id}`)
        .join(", ")}`,
    );
  const faultEvents = [...events, ...processEvents, ...restartEnds].sort(
    (a, b) => a.timeMs - b.timeMs,
  );
  const ended = faultEvents.filter((e) => e.action === "end");
  const heals = ended.filter((e) => !continuedAs.has(e.id));
  const receivers = await options.receivers?.();
  const checks: CheckResult[] = [
    checkAllApplied(applied),
    checkAllHealed(
      [
        ...applied.flatMap((a) => (a.id === undefined ? [] : [a.id])),
        ...reapplied.map((r) => r.id),
      ],
      new Set(ended.map((e) => e.id)),
      inForce,
    ),
    checkLiveness(
      heals.map((e) => e.timeMs - start),
      samples,
      livenessMs,
    ),
    ...(receivers === undefined
      ? []
      : [checkNoLoss(receivers), checkNoDuplication(receivers), checkPerPairFifo(receivers)]),
    ...(history === undefined ? [] : [mac.result()]),
  ];
  if (receivers === undefined)
    io.log("no loss/duplication/FIFO checks: no hmx up or compose fleet to read figures from");
  if (history === undefined) io.log("no MAC check: the hypervisor's history listener is not known");
  const passed = checks.every((c) => c.passed);
  writeFileSync(
    join(outDir, "history.jsonl"),
    faultEvents
      .map((e) => {
        const from = reappliedFrom.get(e.id);
        const to = continuedAs.get(e.id);
        return JSON.stringify({
          ...e,
          runMs: e.timeMs - start,
          ...(from === undefined ? {} : { reappliedFrom: from }),
          ...(to === undefined ? {} : { reappliedAs: to }),
        });
      })
      .join("\n") + "\n",
  );
  writeFileSync(
    join(outDir, "results.json"),
    JSON.stringify(
      {
        seed: schedule.seed,
        passed,
        faults: schedule.faults.length,
        checks,
        reapplied,
        samples,
      },
      null,
      2,
    ) + "\n",
  );
  writeFileSync(join(outDir, "junit.xml"), junitXml("hmx chaos", checks));
  const verdict = `hmx chaos run: ${passed ? "PASSED" : "FAILED"} (seed ${schedule.seed}, ${schedule.faults.length} faults)`;
  const runMs = Math.max(schedule.durationMs, Date.now() - start);
  writeFileSync(
    join(outDir, "timeline.svg"),
    timelineSvg({
      title: verdict,
      durationMs: runMs,
      bars: faultBars(
        faultEvents.map((e) => ({ ...e, runMs: e.timeMs - start })),
        runMs,
      ),
      rates,
    }),
  );
  const summary = [
    verdict,
    ...checks.map((c) => `  ${c.passed ? "ok  " : "FAIL"} ${c.name}: ${c.message}`),
    ...(reapplied.length === 0
      ? []
      : [
          `  ${reapplied.length} faults in force at a hypervisor kill or restart applied again on the new hypervisor (results.json "reapplied")`,
        ]),
    `  timeline.svg: every fault as a bar over time, against each sender → receiver pair's messages/s${history === undefined ? " (no history here: no rate lines)" : ""}`,
  ];
  writeFileSync(join(outDir, "summary.txt"), summary.join("\n") + "\n");
  for (const line of summary) io.log(line);
  return passed;
}
