// SPDX-License-Identifier: Apache-2.0
/**
 * The cost of `--state-dir` (docs/state.md): the same pipelined Session traffic (batches of
 * 256-byte WriteMemory + ReadMemory, all with request ids, so every call is journaled) and the
 * same one-call-at-a-time latency loop against an in-process hypervisor in three configurations:
 * without a state dir, with one as shipped (the default `--state-snapshot-bytes`, 64 MiB: the
 * row the ≥ 0.7× target is judged on), and with a snapshot every 1 MiB (a stress row: several
 * snapshots a round, so it shows what snapshotting costs). Rounds rotate the order so machine
 * noise hits all alike; medians of the rounds, each ratio against the rounds without a state
 * dir. Then the restart cost: 1,000 domains, each with a page written and a ring registered,
 * the hypervisor stopped and started again on the same state dir. Last, restart with a long
 * history (the 1,000 domains plus many journaled calls): from the journal alone vs from a
 * snapshot of the same state, medians of 3, and how long capturing that snapshot held the
 * event loop.
 */
import { pipelinedRound, ROUND_GPA, type Hypervisor } from "./pipelined-round.js";
import { verdictWord } from "./report.js";
import { median } from "./stats.js";
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import {
  createLogger,
  embeddedHypervisorConfig,
  startHypervisor,
  type HypervisorConfig,
} from "@hmx/hypervisor";
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The long-history restart's journaled calls: 256-byte WriteMemory, 64 per batch. */
const PAYLOAD_BYTES = 256;
const BATCH_OPS = 64;

/** The throughput ratio (with a state dir / without) the issue asks for. */
export const STATE_BENCH_TARGET_RATIO = 0.7;
/** `--state-snapshot-bytes` as shipped (hypervisor/src/config.ts: "64M"). */
const SHIPPED_SNAPSHOT_BYTES = 64 * 1024 * 1024;

export interface StateBenchOptions {
  /** Time per throughput round in ms. Default 1,500. */
  readonly roundMs?: number;
  /** Rounds per configuration. Default 4. */
  readonly rounds?: number;
  /** Sequential single calls per latency round. Default 2,000. */
  readonly latencyCalls?: number;
  /** Domains for the restart measurement. Default 1,000. */
  readonly restartDomains?: number;
  /** fsync every commit (`--state-fsync`). Default false. */
  readonly fsync?: boolean;
  /** `--state-snapshot-bytes` of the stress rows (several snapshots a round). Default 1 MiB. */
  readonly snapshotBytes?: number;
  /** Journaled calls after the domains for the long-history restart. Default 100,000. */
  readonly historyCalls?: number;
}

/** Restart from the journal alone vs from a snapshot of the same state (medians of 3). */
export interface HistoryRestart {
  readonly domains: number;
  readonly historyCalls: number;
  readonly journalBytes: number;
  readonly journalRestartMs: number;
  readonly journalRecoveryMs: number;
  readonly snapshotBytes: number;
  readonly snapshotRestartMs: number;
  readonly snapshotRecoveryMs: number;
  /** The snapshot of that state: event loop held to copy it, and by the switch; whole time. */
  readonly captureMs: number;
  readonly switchMs: number;
  readonly snapshotTotalMs: number;
}

/** One configuration with a state dir against the rounds without one (medians of rounds). */
export interface StateRow {
  /** `--state-snapshot-bytes` of these rounds. */
  readonly snapshotBytes: number;
  readonly opsPerSec: number;
  readonly rounds: readonly number[];
  readonly ratio: number;
  readonly p50Us: number;
  readonly latencyRatio: number;
  /** Snapshots taken in these rounds (all rounds together). */
  readonly snapshots: number;
}

export interface StateBenchResult {
  readonly plainOpsPerSec: number;
  readonly roundsPlain: readonly number[];
  readonly plainP50Us: number;
  /** As shipped (default snapshot threshold): the row the target is judged on. */
  readonly shipped: StateRow;
  /** A snapshot every `snapshotBytes` (1 MiB): what frequent snapshots cost. */
  readonly stress: StateRow;
  readonly restartDomains: number;
  /** Journal bytes the restart replays. */
  readonly restartJournalBytes: number;
  /** Journal replay alone, and the whole startHypervisor call, in ms. */
  readonly recoveryMs: number;
  readonly restartMs: number;
  readonly fsync: boolean;
  readonly history: HistoryRestart;
  readonly targetRatio: number;
  readonly meetsTarget: boolean;
}

/** One round on a fresh hypervisor: ops/s of pipelined batches, then p50 of single calls. */
async function round(
  stateDir: string | undefined,
  snapshotBytes: number,
  o: Required<StateBenchOptions>,
): Promise<{ opsPerSec: number; p50Us: number; snapshots: number }> {
  const data = randomBytes(256);
  const { opsPerSec, after } = await pipelinedRound(
    (base) =>
      stateDir === undefined
        ? base
        : { ...base, stateDir, stateFsync: o.fsync, stateSnapshotBytes: snapshotBytes },
    { roundMs: o.roundMs, batchOps: 64, inFlight: 8, workload: "memory" },
    async (client, hv) => {
      const latencies: number[] = [];
      for (let i = 0; i < o.latencyCalls; i++) {
        const t0 = performance.now();
        await client.writeMemory(ROUND_GPA, data);
        latencies.push((performance.now() - t0) * 1000);
      }
      return { p50Us: median(latencies), snapshots: hv.state?.lastSnapshot?.count ?? 0 };
    },
  );
  return { opsPerSec, ...after };
}

/** `domains` domains with a page written and a ring registered each, through the Session. */
async function populate(hv: Hypervisor, domains: number): Promise<void> {
  const page = randomBytes(PAGE_SIZE);
  const gfn = FIRST_GUEST_GFN;
  for (let i = 0; i < domains; i++) {
    const { credential } = hv.core.domains.create({
      name: `idle${i}`,
      label: "idle_t",
      memoryBytes: 1024 * 1024,
    });
    const client = await SessionClient.connect({ address: hv.listen, credential });
    await client.batch([
      { op: "writeMemory", gpa: (gfn + 1) * PAGE_SIZE, data: page },
      { op: "registerRing", aport: 1, partnerId: 0x7ff4, len: 4032, gfns: [gfn], flags: 0 },
    ]);
    await client.close();
  }
}

/** Starts a hypervisor on `config`, checks it came back whole, stops it: [restart, replay] ms. */
async function timedRestart(config: HypervisorConfig, domains: number): Promise<[number, number]> {
  const t0 = performance.now();
  const hv = await startHypervisor(config, createLogger("silent"));
  const restartMs = performance.now() - t0;
  const recoveryMs = hv.state?.recovery.millis ?? Number.NaN;
  const size = hv.core.domains.size;
  await hv.stop();
  if (size !== domains) throw new Error(`restart brought back ${size} of ${domains} domains`);
  return [restartMs, recoveryMs];
}

/**
 * The long-history restart: domains, then `calls` journaled 256-byte WriteMemory calls of one
 * more domain, all in the journal; a copy of the dir gets a snapshot of the same state. Each
 * dir is then restarted three times.
 */
async function historyRestart(
  domains: number,
  calls: number,
  fsync: boolean,
): Promise<HistoryRestart> {
  const journalDir = mkdtempSync(join(tmpdir(), "hmx-state-bench-"));
  const snapshotDir = mkdtempSync(join(tmpdir(), "hmx-state-bench-"));
  try {
    const config = (dir: string, stateSnapshotBytes: number): HypervisorConfig => ({
      ...embeddedHypervisorConfig(randomBytes(24).toString("hex")),
      maxTotalMemoryBytes: 4 * 1024 * 1024 * 1024,
      stateDir: dir,
      stateFsync: fsync,
      stateSnapshotBytes,
    });
    const first = await startHypervisor(config(journalDir, 0), createLogger("silent"));
    await populate(first, domains);
    const { credential } = first.core.domains.create({
      name: "busy",
      label: "busy_t",
      memoryBytes: 8 * 1024 * 1024,
    });
    const client = await SessionClient.connect({ address: first.listen, credential });
    const data = randomBytes(PAYLOAD_BYTES);
    const gpa = FIRST_GUEST_GFN * PAGE_SIZE;
    const ops: HypercallOp[] = Array.from({ length: BATCH_OPS }, (_, i) => ({
      op: "writeMemory",
      gpa: gpa + i * PAYLOAD_BYTES,
      data,
    }));
    for (let done = 0; done < calls; done += ops.length) await client.batch(ops);
    await client.close();
    await first.stop();
    cpSync(journalDir, snapshotDir, { recursive: true });
    const journalBytes = statSync(join(journalDir, "journal.hmx")).size;
    // The snapshot is taken by a live hypervisor, as the threshold would (a huge one: only this).
    const second = await startHypervisor(config(snapshotDir, 2 ** 40), createLogger("silent"));
    const taken = await second.state?.snapshot();
    const stats = second.state?.lastSnapshot;
    await second.stop();
    if (taken !== true || stats === undefined) throw new Error("the bench snapshot failed");
    const all = domains + 1;
    const journalRuns: [number, number][] = [];
    const snapshotRuns: [number, number][] = [];
    for (let r = 0; r < 3; r++) {
      journalRuns.push(await timedRestart(config(journalDir, 0), all));
      snapshotRuns.push(await timedRestart(config(snapshotDir, 2 ** 40), all));
    }
    return {
      domains,
      historyCalls: calls,
      journalBytes,
      journalRestartMs: median(journalRuns.map((x) => x[0])),
      journalRecoveryMs: median(journalRuns.map((x) => x[1])),
      snapshotBytes: stats.bytes,
      snapshotRestartMs: median(snapshotRuns.map((x) => x[0])),
      snapshotRecoveryMs: median(snapshotRuns.map((x) => x[1])),
      captureMs: stats.captureMs,
      switchMs: stats.switchMs,
      snapshotTotalMs: stats.totalMs,
    };
  } finally {
    rmSync(journalDir, { recursive: true, force: true });
    rmSync(snapshotDir, { recursive: true, force: true });
  }
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
    await populate(first, domains);
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

type Round = Awaited<ReturnType<typeof round>>;

/** `round` on a fresh state dir of its own (removed after), or with none. */
async function roundIn(
  snapshotBytes: number | undefined,
  o: Required<StateBenchOptions>,
): Promise<Round> {
  if (snapshotBytes === undefined) return round(undefined, 0, o);
  const dir = mkdtempSync(join(tmpdir(), "hmx-state-bench-"));
  try {
    return await round(dir, snapshotBytes, o);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function stateRow(
  snapshotBytes: number,
  rounds: readonly Round[],
  plain: readonly Round[],
): StateRow {
  const opsPerSec = median(rounds.map((x) => x.opsPerSec));
  const p50Us = median(rounds.map((x) => x.p50Us));
  return {
    snapshotBytes,
    opsPerSec,
    rounds: rounds.map((x) => x.opsPerSec),
    ratio: opsPerSec / median(plain.map((x) => x.opsPerSec)),
    p50Us,
    latencyRatio: p50Us / median(plain.map((x) => x.p50Us)),
    snapshots: rounds.reduce((n, x) => n + x.snapshots, 0),
  };
}

export async function runStateBench(options: StateBenchOptions = {}): Promise<StateBenchResult> {
  const o: Required<StateBenchOptions> = {
    roundMs: options.roundMs ?? 1500,
    rounds: options.rounds ?? 4,
    latencyCalls: options.latencyCalls ?? 2000,
    restartDomains: options.restartDomains ?? 1000,
    fsync: options.fsync ?? false,
    snapshotBytes: options.snapshotBytes ?? 1024 * 1024,
    historyCalls: options.historyCalls ?? 100_000,
  };
  // Without a state dir, as shipped, the stress: each round starts one further along, so
  // warm-up and drift favour none of them.
  const configs = [undefined, SHIPPED_SNAPSHOT_BYTES, o.snapshotBytes];
  const rounds: Round[][] = configs.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    for (let i = 0; i < configs.length; i++) {
      const c = (r + i) % configs.length;
      rounds[c]?.push(await roundIn(configs[c], o));
    }
  }
  const [plain = [], shippedRounds = [], stressRounds = []] = rounds;
  const shipped = stateRow(SHIPPED_SNAPSHOT_BYTES, shippedRounds, plain);
  const restarted = await restart(o.restartDomains, o.fsync);
  const history = await historyRestart(o.restartDomains, o.historyCalls, o.fsync);
  return {
    plainOpsPerSec: median(plain.map((x) => x.opsPerSec)),
    roundsPlain: plain.map((x) => x.opsPerSec),
    plainP50Us: median(plain.map((x) => x.p50Us)),
    shipped,
    stress: stateRow(o.snapshotBytes, stressRounds, plain),
    restartDomains: o.restartDomains,
    restartJournalBytes: restarted.journalBytes,
    recoveryMs: restarted.recoveryMs,
    restartMs: restarted.restartMs,
    fsync: o.fsync,
    history,
    targetRatio: STATE_BENCH_TARGET_RATIO,
    meetsTarget: shipped.ratio >= STATE_BENCH_TARGET_RATIO,
  };
}

/** Lines for the report (`judged`: as for `verdictWord`). */
export function stateBenchLines(r: StateBenchResult, judged = true): string[] {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const mode = r.fsync ? "--state-dir --state-fsync" : "--state-dir";
  const h = r.history;
  const mib = (n: number) => `${fmt(n / (1024 * 1024))} MiB`;
  const row = (x: StateRow, what: string) =>
    `${mode} ${what} (snapshot every ${mib(x.snapshotBytes)}, ${x.snapshots} in the rounds): ` +
    `${fmt(x.opsPerSec)} vs ${fmt(r.plainOpsPerSec)} hypercalls/s without it ` +
    `(${x.ratio.toFixed(2)}×); p50 of one call ${fmt(x.p50Us)} vs ${fmt(r.plainP50Us)} µs ` +
    `(${x.latencyRatio.toFixed(2)}×)`;
  return [
    `${row(r.shipped, "as shipped")}; target ≥ ${r.targetRatio}×: ${verdictWord(r.meetsTarget, judged)}`,
    `${row(r.stress, "stress")}; medians of ${r.roundsPlain.length} rounds each`,
    `${mode} restart with ${fmt(r.restartDomains)} domains: ${fmt(r.restartMs)} ms ` +
      `(journal replay ${fmt(r.recoveryMs)} ms of ${fmt(r.restartJournalBytes / 1024)} KiB)`,
    `${mode} restart with ${fmt(h.domains)} domains + ${fmt(h.historyCalls)} calls (medians of 3): ` +
      `journal only ${fmt(h.journalRestartMs)} ms (replay ${fmt(h.journalRecoveryMs)} ms of ` +
      `${fmt(h.journalBytes / 1024)} KiB); from a snapshot ${fmt(h.snapshotRestartMs)} ms ` +
      `(load ${fmt(h.snapshotRecoveryMs)} ms of ${fmt(h.snapshotBytes / 1024)} KiB); taking it held ` +
      `the event loop ${h.captureMs.toFixed(1)} ms (capture) + ${h.switchMs.toFixed(1)} ms (switch) ` +
      `of ${fmt(h.snapshotTotalMs)} ms`,
  ];
}
