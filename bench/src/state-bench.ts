// SPDX-License-Identifier: Apache-2.0
/**
 * The cost of `--state-dir` (docs/state.md): the same pipelined Session traffic (batches of
 * 256-byte WriteMemory + ReadMemory, all with request ids, so every call is journaled) and the
 * same one-call-at-a-time latency loop against an in-process hypervisor without and with a state
 * dir, rounds alternating so machine noise hits both alike (best round counts for throughput,
 * the median round for p50 latency). The target is a throughput ratio of at least 0.7. Then the
 * restart cost: 1,000 domains, each with a page written and a ring registered, the hypervisor
 * stopped and started again on the same state dir.
 */
import { pipelinedRound, ROUND_GPA } from "./pipelined-round.js";
import { median } from "./stats.js";
import { SessionClient } from "@hmx/guest-agent";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import {
  createLogger,
  embeddedHypervisorConfig,
  startHypervisor,
  type HypervisorConfig,
} from "@hmx/hypervisor";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The throughput ratio (with a state dir / without) the issue asks for. */
export const STATE_BENCH_TARGET_RATIO = 0.7;

export interface StateBenchOptions {
  /** Time per throughput round in ms. Default 2,000. */
  readonly roundMs?: number;
  /** Rounds per configuration. Default 4. */
  readonly rounds?: number;
  /** Sequential single calls per latency round. Default 2,000. */
  readonly latencyCalls?: number;
  /** Domains for the restart measurement. Default 1,000. */
  readonly restartDomains?: number;
  /** fsync every commit (`--state-fsync`). Default false. */
  readonly fsync?: boolean;
}

export interface StateBenchResult {
  readonly plainOpsPerSec: number;
  readonly stateOpsPerSec: number;
  readonly roundsPlain: readonly number[];
  readonly roundsState: readonly number[];
  readonly ratio: number;
  readonly plainP50Us: number;
  readonly stateP50Us: number;
  readonly latencyRatio: number;
  readonly restartDomains: number;
  /** Journal bytes the restart replays. */
  readonly restartJournalBytes: number;
  /** Journal replay alone, and the whole startHypervisor call, in ms. */
  readonly recoveryMs: number;
  readonly restartMs: number;
  readonly fsync: boolean;
  readonly targetRatio: number;
  readonly meetsTarget: boolean;
}

/** One round on a fresh hypervisor: ops/s of pipelined batches, then p50 of single calls. */
async function round(
  stateDir: string | undefined,
  o: Required<StateBenchOptions>,
): Promise<{ opsPerSec: number; p50Us: number }> {
  const data = randomBytes(256);
  const { opsPerSec, after: p50Us } = await pipelinedRound(
    (base) => (stateDir === undefined ? base : { ...base, stateDir, stateFsync: o.fsync }),
    { roundMs: o.roundMs, batchOps: 64, inFlight: 8, workload: "memory" },
    async (client) => {
      const latencies: number[] = [];
      for (let i = 0; i < o.latencyCalls; i++) {
        const t0 = performance.now();
        await client.writeMemory(ROUND_GPA, data);
        latencies.push((performance.now() - t0) * 1000);
      }
      return median(latencies);
    },
  );
  return { opsPerSec, p50Us };
}

/** 1,000 domains with a page and a ring each, then a stop and a start on the same dir. */
async function restart(
  domains: number,
  fsync: boolean,
): Promise<{ recoveryMs: number; restartMs: number; journalBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), "hmx-state-bench-"));
  try {
    const config: HypervisorConfig = {
      ...embeddedHypervisorConfig(randomBytes(24).toString("hex")),
      maxTotalMemoryBytes: 4 * 1024 * 1024 * 1024,
      stateDir: dir,
      stateFsync: fsync,
    };
    const first = await startHypervisor(config, createLogger("silent"));
    const page = randomBytes(PAGE_SIZE);
    const gfn = FIRST_GUEST_GFN;
    for (let i = 0; i < domains; i++) {
      const { credential } = first.core.domains.create({
        name: `idle${i}`,
        label: "idle_t",
        memoryBytes: 1024 * 1024,
      });
      const client = await SessionClient.connect({ address: first.listen, credential });
      await client.batch([
        { op: "writeMemory", gpa: (gfn + 1) * PAGE_SIZE, data: page },
        { op: "registerRing", aport: 1, partnerId: 0x7ff4, len: 4032, gfns: [gfn], flags: 0 },
      ]);
      await client.close();
    }
    await first.stop();
    const journalBytes = statSync(join(dir, "journal.hmx")).size;
    const t0 = performance.now();
    const second = await startHypervisor(config, createLogger("silent"));
    const restartMs = performance.now() - t0;
    const recoveryMs = second.state?.recovery.millis ?? Number.NaN;
    if (second.core.domains.size !== domains) {
      throw new Error(`restart brought back ${second.core.domains.size} of ${domains} domains`);
    }
    await second.stop();
    return { recoveryMs, restartMs, journalBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runStateBench(options: StateBenchOptions = {}): Promise<StateBenchResult> {
  const o: Required<StateBenchOptions> = {
    roundMs: options.roundMs ?? 2000,
    rounds: options.rounds ?? 4,
    latencyCalls: options.latencyCalls ?? 2000,
    restartDomains: options.restartDomains ?? 1000,
    fsync: options.fsync ?? false,
  };
  const plain: { opsPerSec: number; p50Us: number }[] = [];
  const state: { opsPerSec: number; p50Us: number }[] = [];
  for (let r = 0; r < o.rounds; r++) {
    // Alternate which goes first, so warm-up and drift favour neither.
    for (const withState of r % 2 === 0 ? [false, true] : [true, false]) {
      if (!withState) {
        plain.push(await round(undefined, o));
        continue;
      }
      const dir = mkdtempSync(join(tmpdir(), "hmx-state-bench-"));
      try {
        state.push(await round(dir, o));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const plainOpsPerSec = Math.max(...plain.map((x) => x.opsPerSec));
  const stateOpsPerSec = Math.max(...state.map((x) => x.opsPerSec));
  const plainP50Us = median(plain.map((x) => x.p50Us));
  const stateP50Us = median(state.map((x) => x.p50Us));
  const ratio = stateOpsPerSec / plainOpsPerSec;
  const restarted = await restart(o.restartDomains, o.fsync);
  return {
    plainOpsPerSec,
    stateOpsPerSec,
    roundsPlain: plain.map((x) => x.opsPerSec),
    roundsState: state.map((x) => x.opsPerSec),
    ratio,
    plainP50Us,
    stateP50Us,
    latencyRatio: stateP50Us / plainP50Us,
    restartDomains: o.restartDomains,
    restartJournalBytes: restarted.journalBytes,
    recoveryMs: restarted.recoveryMs,
    restartMs: restarted.restartMs,
    fsync: o.fsync,
    targetRatio: STATE_BENCH_TARGET_RATIO,
    meetsTarget: ratio >= STATE_BENCH_TARGET_RATIO,
  };
}

/** Lines for the report. */
export function stateBenchLines(r: StateBenchResult): string[] {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const mode = r.fsync ? "--state-dir --state-fsync" : "--state-dir";
  return [
    `${mode}: ${fmt(r.stateOpsPerSec)} vs ${fmt(r.plainOpsPerSec)} hypercalls/s without it ` +
      `(${r.ratio.toFixed(2)}×; target ≥ ${r.targetRatio}×: ${r.meetsTarget ? "met" : "NOT met"}); ` +
      `p50 of one call ${fmt(r.stateP50Us)} vs ${fmt(r.plainP50Us)} µs (${r.latencyRatio.toFixed(2)}×)`,
    `${mode} restart with ${fmt(r.restartDomains)} domains: ${fmt(r.restartMs)} ms ` +
      `(journal replay ${fmt(r.recoveryMs)} ms of ${fmt(r.restartJournalBytes / 1024)} KiB)`,
  ];
}
