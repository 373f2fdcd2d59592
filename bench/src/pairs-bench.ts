// SPDX-License-Identifier: Apache-2.0
/**
 * The scale phase's traffic half: 50 sender/receiver pairs on one hypervisor at once. A fresh
 * hypervisor process, 100 domains through the toolstack, the pairs spread over a few
 * `pairs-worker.ts` processes; a warm-up run, then a measured run in which every pair sends
 * as fast as it can for the same window. Reported: the aggregate msgs/s and Jain's fairness
 * index over the pairs' msgs/s (1 = every pair got the same share; target >= 0.9), with each
 * pair's figure in the JSON. Every message of every pair is checked to arrive once and in order.
 */
import { randomInt } from "node:crypto";
import { ToolstackClient } from "@hmx/client";
import { Worker } from "./children.js";
import { startHypervisorProcess } from "./hypervisor-process.js";
import type { PairInit, PairReport } from "./ipc.js";
import { now } from "./payload.js";
import { cpuSnapshot, cpuUse } from "./proc-stat.js";
import { jainIndex, summarize } from "./stats.js";

export interface PairsBenchOptions {
  readonly pairs: number;
  /** Whole pairs per worker process. */
  readonly pairsPerWorker: number;
  readonly payload: number;
  readonly warmupMs: number;
  readonly windowMs: number;
}

export const DEFAULT_PAIRS_OPTIONS: PairsBenchOptions = {
  pairs: 50,
  pairsPerWorker: 10,
  payload: 64,
  warmupMs: 2000,
  windowMs: 5000,
};

/** Jain's index the issue asks for. */
export const FAIRNESS_TARGET = 0.9;

export interface PairsBenchResult {
  readonly options: PairsBenchOptions;
  readonly workers: number;
  readonly aggregateMsgsPerSec: number;
  /** Each pair's msgs/s in the window, by pair index. */
  readonly pairMsgsPerSec: readonly number[];
  readonly minPairMsgsPerSec: number;
  readonly maxPairMsgsPerSec: number;
  readonly jainIndex: number;
  readonly meetsFairnessTarget: boolean;
  /** CPU-seconds per second of the hypervisor and of all workers together in the window. */
  readonly cpu: Record<string, number | null>;
}

const DOMAIN_MEMORY = 16 * 1024 * 1024;
const APORT = 1000;
/** Time for the run command to reach every worker before the common start. */
const START_DELAY_MS = 300;

/** The pairs' reports, checked: every message once and in order, or an error naming the pair. */
export function checkPairReports(reports: readonly PairReport[], pairs: number): PairReport[] {
  const sorted = [...reports].sort((a, b) => a.index - b.index);
  if (sorted.length !== pairs)
    throw new Error(`expected ${pairs} pair reports, got ${sorted.length}`);
  for (const r of sorted) {
    if (r.received !== r.sent || r.outOfSequence !== 0) {
      throw new Error(
        `pair ${r.index}: delivery check FAILED: sent ${r.sent}, received ${r.received}, ` +
          `${r.outOfSequence} out of sequence`,
      );
    }
  }
  return sorted;
}

export async function runPairsBench(
  options: PairsBenchOptions,
  log: (s: string) => void,
): Promise<PairsBenchResult> {
  const { pairs, pairsPerWorker, payload, warmupMs, windowMs } = options;
  const hv = await startHypervisorProcess({
    args: ["--max-total-memory", String((2 * pairs + 1) * DOMAIN_MEMORY)],
  });
  const toolstack = new ToolstackClient(hv.controlListen, hv.adminToken);
  const workers: Worker[] = [];
  try {
    const inits: PairInit[] = [];
    for (let index = 0; index < pairs; index++) {
      const create = (role: string) =>
        toolstack.createDomain({
          name: `pair${index}-${role}`,
          label: "bench",
          memoryBytes: DOMAIN_MEMORY,
        });
      const rx = await create("rx");
      const tx = await create("tx");
      inits.push({
        index,
        senderCredential: tx.credential,
        senderDomid: tx.domid,
        receiverCredential: rx.credential,
        receiverDomid: rx.domid,
      });
    }
    for (let first = 0; first < pairs; first += pairsPerWorker) {
      const worker = new Worker(`pairs worker ${workers.length}`, "pairs-worker.js");
      workers.push(worker);
      await worker.request(
        {
          cmd: "pairs-init",
          address: hv.listen,
          memoryBytes: DOMAIN_MEMORY,
          aport: APORT,
          pairs: inits.slice(first, first + pairsPerWorker),
        },
        120_000,
      );
    }
    log(`${pairs} pairs up in ${workers.length} worker processes (hypervisor pid ${hv.pid})`);
    const runAll = async (durationMs: number) => {
      const startAt = now() + START_DELAY_MS;
      const tag = randomInt(1, 0xffffffff);
      const command = {
        cmd: "pairs-run",
        tag,
        size: payload,
        startAt,
        durationMs,
        timeoutMs: 30_000,
      } as const;
      const reports = await Promise.all(
        workers.map((w) => w.request<PairReport[]>(command, durationMs + 60_000)),
      );
      return checkPairReports(reports.flat(), pairs);
    };
    await runAll(warmupMs);
    const pids: Record<string, number> = { hypervisor: hv.pid };
    for (const [i, w] of workers.entries()) pids[`worker${i}`] = w.pid;
    const before = cpuSnapshot(pids);
    const t0 = now();
    const reports = await runAll(windowMs);
    const cpuAll = cpuUse(before, cpuSnapshot(pids), now() - t0);
    const pairMsgsPerSec = reports.map((r) => (r.inWindow * 1000) / windowMs);
    const fairness = jainIndex(pairMsgsPerSec);
    const spread = summarize(pairMsgsPerSec);
    let workersCpu = 0;
    for (const [k, v] of Object.entries(cpuAll)) if (k.startsWith("worker")) workersCpu += v ?? 0;
    return {
      options,
      workers: workers.length,
      aggregateMsgsPerSec: pairMsgsPerSec.reduce((a, b) => a + b, 0),
      pairMsgsPerSec,
      minPairMsgsPerSec: spread.min,
      maxPairMsgsPerSec: spread.max,
      jainIndex: fairness,
      meetsFairnessTarget: fairness >= FAIRNESS_TARGET,
      cpu: {
        hypervisor: cpuAll["hypervisor"] ?? null,
        workers: workersCpu,
        others: cpuAll["others"] ?? null,
      },
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.close()));
    toolstack.close();
    await hv.stop();
  }
}
