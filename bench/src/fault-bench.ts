// SPDX-License-Identifier: Apache-2.0
/**
 * The cost of the fault engines with no fault active (issue 11: at least 0.95× of the run
 * without them), two pairs in one run, each on the same pipelined Session traffic against a
 * fresh in-process hypervisor per round (pipelined-round.ts):
 * - the **Argo-level engine** loaded (the default) against the engine absent
 *   (`argoFaultEngine: false`), on Argo sendvs into a ring: the path its hooks sit on (the sendv
 *   check, the VIRQ delay, the delaying scheduler);
 * - the **link-fault layer** on (`linkFaults`, every byte through the relay's fault pipes, no
 *   toxic) against the plain guest listener, on 256-byte WriteMemory + ReadMemory batches.
 * After one uncounted warm-up round of each, rounds alternate within each pair so machine noise
 * hits both alike; each figure is the median of its rounds (3 by default), the ratio of medians.
 * Each pair also reports CPU per hypercall and its capacity ratio: on a loaded machine the
 * rates swing ±30 % even for identical code, the CPU per call much less.
 */
import type { HypervisorConfig } from "@hmx/hypervisor";
import { pipelinedRound, type PipelinedRoundOptions } from "./pipelined-round.js";
import { verdictWord } from "./report.js";
import { median } from "./stats.js";

/** The ratio (engine loaded, no fault / engine absent) the issue asks for. */
export const FAULT_BENCH_TARGET_RATIO = 0.95;

export interface FaultBenchOptions {
  /** Time per round in ms. Default 2,000. */
  readonly roundMs?: number;
  /** Rounds per configuration. Default 3. */
  readonly rounds?: number;
  /** Hypercalls per batch. Default 64. */
  readonly batchOps?: number;
  /** Batches in flight. Default 8. */
  readonly inFlight?: number;
}

/** One pair: hypercalls per second per round without and with, their medians and ratio. */
export interface FaultBenchPair {
  readonly withoutOpsPerSec: number;
  readonly withOpsPerSec: number;
  readonly roundsWithout: readonly number[];
  readonly roundsWith: readonly number[];
  readonly ratio: number;
  readonly meetsTarget: boolean;
  /** Medians of CPU µs per hypercall (client and hypervisor: one process) without and with. */
  readonly cpuUsWithout: number;
  readonly cpuUsWith: number;
  /** cpuUsWithout / cpuUsWith: the capacity ratio, which other processes' load does not move. */
  readonly capacityRatio: number;
}

export interface FaultBenchResult {
  /** The Argo-level fault engine loaded with no fault, against it absent (sendv traffic). */
  readonly argo: FaultBenchPair;
  /** The link-fault layer on with no fault, against the plain listener (memory traffic). */
  readonly link: FaultBenchPair;
  readonly targetRatio: number;
  readonly meetsTarget: boolean;
}

const BASELINE = (base: HypervisorConfig): HypervisorConfig => base;

/** Alternating rounds of `without` and `with`; medians and their ratio. */
async function pair(
  without: (base: HypervisorConfig) => HypervisorConfig,
  withIt: (base: HypervisorConfig) => HypervisorConfig,
  rounds: number,
  o: PipelinedRoundOptions,
): Promise<FaultBenchPair> {
  const roundsWithout: number[] = [];
  const roundsWith: number[] = [];
  const cpuWithout: number[] = [];
  const cpuWith: number[] = [];
  const none = () => Promise.resolve(undefined);
  // One round of each first, not counted: the first rounds of a process run cold (JIT, heap).
  for (const configure of [without, withIt]) await pipelinedRound(configure, o, none);
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so warm-up and drift favour neither.
    for (const on of r % 2 === 0 ? [false, true] : [true, false]) {
      const { opsPerSec, cpuUsPerOp } = await pipelinedRound(on ? withIt : without, o, none);
      (on ? roundsWith : roundsWithout).push(opsPerSec);
      (on ? cpuWith : cpuWithout).push(cpuUsPerOp);
    }
  }
  const withoutOpsPerSec = median(roundsWithout);
  const withOpsPerSec = median(roundsWith);
  const ratio = withOpsPerSec / withoutOpsPerSec;
  const cpuUsWithout = median(cpuWithout);
  const cpuUsWith = median(cpuWith);
  return {
    withoutOpsPerSec,
    withOpsPerSec,
    roundsWithout,
    roundsWith,
    ratio,
    meetsTarget: ratio >= FAULT_BENCH_TARGET_RATIO,
    cpuUsWithout,
    cpuUsWith,
    capacityRatio: cpuUsWithout / cpuUsWith,
  };
}

export async function runFaultBench(options: FaultBenchOptions = {}): Promise<FaultBenchResult> {
  const rounds = options.rounds ?? 3;
  const common = {
    roundMs: options.roundMs ?? 2000,
    batchOps: options.batchOps ?? 64,
    inFlight: options.inFlight ?? 8,
  };
  const argo = await pair((base) => ({ ...base, argoFaultEngine: false }), BASELINE, rounds, {
    ...common,
    workload: "sendv",
  });
  const link = await pair(BASELINE, (base) => ({ ...base, linkFaults: { seed: 1 } }), rounds, {
    ...common,
    workload: "memory",
  });
  return {
    argo,
    link,
    targetRatio: FAULT_BENCH_TARGET_RATIO,
    meetsTarget: argo.meetsTarget && link.meetsTarget,
  };
}

/** Lines for the report (`judged`: as for `verdictWord`). */
export function faultBenchLines(r: FaultBenchResult, judged = true): string[] {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const line = (what: string, p: FaultBenchPair, without: string) =>
    `${what}, no fault active: ${fmt(p.withOpsPerSec)} vs ${fmt(p.withoutOpsPerSec)} hypercalls/s ${without} ` +
    `(medians of ${p.roundsWith.length}; ${p.ratio.toFixed(2)}×; target ≥ ${r.targetRatio}×: ${verdictWord(p.meetsTarget, judged)}; ` +
    `CPU ${p.cpuUsWith.toFixed(2)} vs ${p.cpuUsWithout.toFixed(2)} µs per call, capacity ${p.capacityRatio.toFixed(2)}×)`;
  return [
    line("Argo fault engine loaded (sendv)", r.argo, "with it absent"),
    line("Link-fault layer on (memory calls)", r.link, "without it"),
  ];
}
