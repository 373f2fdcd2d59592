// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run bench`: the hmx path against a bare grpc-js relay, in one run, every party its own
 * process, and the memory an idle domain costs. This file only orchestrates: it starts the
 * hypervisor (`hypervisor-process.ts`), two guest pairs (`hmx-worker.ts`: one socket sending one
 * message per multicall, one with libargo's default batching), two relays and their clients
 * (`relay-server.ts`, `relay-worker.ts`: one payload per gRPC message, and as many per gRPC
 * message as libargo puts in a multicall), drives each phase over IPC, checks that every
 * message arrived exactly once, and hands the numbers to `report.ts`. Every ratio it reports
 * pairs like with like: unbatched with unbatched, batched with batched.
 *
 * Phases, per payload size: a 3 s warm-up, then a saturated phase (bounded by a message count
 * and a send time) for throughput, the four systems in a rotated order for `rounds` rounds
 * (the median is reported); then an unmeasured paced phase and `rounds` paced phases for one-way
 * latency (the round with the median p50 is reported). Throughput is the messages the receiver
 * counted over the time from the sender's first send to the receiver's last arrival. CPU use of
 * every process is sampled around each phase (who saturates shows where the time goes). Every
 * child is stopped at the end, also on failure (`children.ts`).
 *
 * Options (all for investigating; the defaults are the published measurement):
 * `--quick` shrinks every bound (for trying the harness, not for numbers); `--sizes 64,65536`
 * picks payload sizes; `--no-memory` skips the idle-domain phase; `--only virtio` (or any
 * comma-separated list of traffic, memory, mac, virtio) runs just those phases; `--cpu-prof
 * DIR` runs every child with node's `--cpu-prof` into DIR; `--batch-bytes N` /
 * `--batch-messages N` override
 * the hmx sender socket's batching (libargo's `maxBatchBytes` / `maxBatchMessages`);
 * `--hypervisor-flags "--trace-gc"` adds node flags to the traffic hypervisor only, and
 * `--hypervisor-log FILE` appends its stdout to FILE.
 */
import { randomInt } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ToolstackClient, tuneHeapForDataPath } from "@hmx/client";
import {
  distScript,
  killAll,
  liveChildren,
  nodeFlags,
  setChildNodeFlags,
  spawnUntilReady,
  stopChild,
  Worker,
} from "./children.js";
import { DEFAULT_SOCKET_TUNING } from "./guest-lib.js";
import { REPO_ROOT, startHypervisorProcess, type HypervisorProcess } from "./hypervisor-process.js";
import type { InitReport, ReceiveReport, SendReport, TransportInit } from "./ipc.js";
import { measureMemory, type MemoryResult } from "./memory.js";
import { MAC_BENCH_RULES, runMacBench, type MacBenchResult } from "./mac-bench.js";
import {
  runVirtioBench,
  type RoundRatio,
  type VirtioBenchResult,
  type VirtioBenchRow,
  virtioVerdicts,
} from "./virtio-bench.js";
import { faultBenchLines, runFaultBench, type FaultBenchResult } from "./fault-bench.js";
import {
  DEFAULT_PAIRS_OPTIONS,
  FAIRNESS_TARGET,
  runPairsBench,
  type PairsBenchResult,
} from "./pairs-bench.js";
import { runStateBench, stateBenchLines, type StateBenchResult } from "./state-bench.js";
import { runHistoryBench } from "./history-phase.js";
import { BENCH_USAGE, parseBenchOptions, UsageError, type BenchConfig } from "./options.js";
import { now } from "./payload.js";
import { cpuSnapshot, cpuUse } from "./proc-stat.js";
import {
  consoleTable,
  environment,
  formatRate,
  formatSize,
  formatUs,
  markdownTable,
  rttLine,
  targetVerdicts,
  verdictLines,
  verdictWord,
  writeResults,
  type Pairing,
  type SizeResult,
} from "./report.js";
import { ratio, summarize, throughput, type Summary } from "./stats.js";
import { deliveryProblem } from "./tally.js";
import { hostileTable, runHostileBench, type HostileRow } from "./hostile-bench.js";

/** The hostile phase's seed: fixed, so runs compare; HMX_TEST_SEED (as for the tests) picks another. */
const HOSTILE_SEED = Number(process.env["HMX_TEST_SEED"] ?? 0x9e3779b9);

let parsed: BenchConfig | "help";
try {
  parsed = parseBenchOptions(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`bench: ${err.message}\n\n${BENCH_USAGE}`);
  process.exit(2);
}
if (parsed === "help") {
  console.log(BENCH_USAGE);
  process.exit(0);
}
const CONFIG: BenchConfig = parsed;
/** Whether target lines say MET / NOT MET: not for --quick, whose rounds measure nothing. */
const JUDGED = !CONFIG.quick;
const quick = CONFIG.quick;
// This process hosts the in-process phases (the virtio world and its loopback, MAC, faults):
// the same V8 settings as every measured process, hmx's and the baselines' alike.
tuneHeapForDataPath();

const started = now();
function log(message: string): void {
  console.log(`[${((now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);
}

/**
 * The four systems of the traffic comparison: hmx and the relay, each unbatched (one message
 * per multicall / gRPC message) and batched (libargo's default, and the relay packing as many
 * payloads per gRPC message). Ratios only ever pair like with like.
 */
type SystemName = "hmx-unbatched" | "relay-unbatched" | "hmx-batched" | "relay-batched";

/** libargo's default batch bounds, which the batched relay copies. */
const DEFAULT_BATCH = {
  maxMessages: DEFAULT_SOCKET_TUNING.maxBatchMessages,
  maxBytes: DEFAULT_SOCKET_TUNING.maxBatchBytes,
} as const;

/** The issue-15 scale target for idle domains: the hypervisor's whole RSS. */
const IDLE_RSS_TARGET_BYTES = 1024 ** 3;

/** One system of the comparison: its sender and receiver workers and the processes to watch. */
interface System {
  readonly name: SystemName;
  readonly sender: Worker;
  readonly receiver: Worker;
  readonly pids: Readonly<Record<string, number>>;
}

interface PhaseRecord {
  readonly system: string;
  readonly kind: "warm-up" | "saturated" | "paced warm-up" | "paced";
  readonly round: number;
  readonly payload: number;
  readonly sent: SendReport;
  readonly received: Omit<ReceiveReport, "latenciesUs">;
  readonly durationMs: number;
  readonly msgsPerSec: number;
  readonly mbPerSec: number;
  /** CPU-seconds per second of each process during the phase. */
  readonly cpu: Record<string, number | null>;
  readonly latencyUs?: Summary;
}

const phases: PhaseRecord[] = [];

/** Each worker's counters at the end of its last phase: workers report running totals. */
const lastCounters = new Map<Worker, Readonly<Record<string, number>>>();

function counterDelta(
  worker: Worker,
  total: Readonly<Record<string, number>>,
): Record<string, number> {
  const before = lastCounters.get(worker) ?? {};
  lastCounters.set(worker, total);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(total)) out[k] = v - (before[k] ?? 0);
  return out;
}

function cpuLine(cpu: Record<string, number | null>): string {
  return Object.entries(cpu)
    .map(([k, v]) => `${k} ${v === null ? "?" : v.toFixed(2)}`)
    .join(", ");
}

/** Arms the receiver, runs `send` on the sender, collects, checks delivery. */
async function runPhase(
  sys: System,
  kind: PhaseRecord["kind"],
  round: number,
  size: number,
  capacity: number,
  recordLatency: boolean,
  send: (tag: number) => Promise<SendReport>,
): Promise<{ record: PhaseRecord; latenciesUs: Float64Array | null }> {
  const tag = randomInt(1, 0xffffffff);
  await sys.receiver.request({ cmd: "arm", tag, size, capacity, recordLatency }, 10_000);
  const cpuBefore = cpuSnapshot(sys.pids);
  const t0 = now();
  const sent = await send(tag);
  const received = await sys.receiver.request<ReceiveReport>(
    { cmd: "collect", expected: sent.count, timeoutMs: 30_000 },
    40_000,
  );
  const wall = now() - t0;
  const cpu = cpuUse(cpuBefore, cpuSnapshot(sys.pids), wall);
  const problem = deliveryProblem(received);
  if (problem !== null) {
    throw new Error(`${sys.name} ${formatSize(size)} ${kind}: delivery check FAILED: ${problem}`);
  }
  const durationMs = received.lastAt - sent.startAt;
  const tp = throughput(sent.count, size, durationMs);
  const { latenciesUs, ...rest } = received;
  const record: PhaseRecord = {
    system: sys.name,
    kind,
    round,
    payload: size,
    sent: { ...sent, counters: counterDelta(sys.sender, sent.counters) },
    received: { ...rest, counters: counterDelta(sys.receiver, rest.counters) },
    durationMs,
    ...tp,
    cpu,
    ...(latenciesUs === null ? {} : { latencyUs: summarize(latenciesUs) }),
  };
  phases.push(record);
  return { record, latenciesUs };
}

async function saturated(
  sys: System,
  size: number,
  round: number,
  warmUp: boolean,
): Promise<PhaseRecord> {
  const maxMessages = warmUp ? CONFIG.warmupMessages : CONFIG.maxMessages;
  const maxMs = warmUp ? CONFIG.warmupMs : CONFIG.maxSendMs;
  const { record } = await runPhase(
    sys,
    warmUp ? "warm-up" : "saturated",
    round,
    size,
    maxMessages,
    false,
    (tag) =>
      sys.sender.request<SendReport>(
        { cmd: "saturate", tag, size, maxMessages, maxMs },
        maxMs + 60_000,
      ),
  );
  if (!warmUp) {
    log(
      `  ${sys.name.padEnd(15)} ${formatSize(size).padStart(6)} saturated: ${formatRate(record.msgsPerSec)} msgs/s, ` +
        `${record.mbPerSec.toFixed(1)} MB/s (${record.sent.count} msgs in ${(record.durationMs / 1000).toFixed(2)} s, ` +
        `all received once) cpu: ${cpuLine(record.cpu)}`,
    );
    if (sys.name.startsWith("hmx")) {
      log(
        `             sender:   ${rttLine(record.sent.counters, record.durationMs)}; EAGAIN ${record.sent.counters["eagains"] ?? 0}`,
      );
      log(
        `             receiver: ${rttLine(record.received.counters, record.durationMs)}; VIRQs ${record.received.counters["virqs"] ?? 0}`,
      );
    }
  }
  return record;
}

async function paced(sys: System, size: number, round: number, warmUp: boolean): Promise<Summary> {
  const count = CONFIG.latencyCount;
  const rate = CONFIG.latencyRatePerSec[size] ?? 1000;
  const kind = warmUp ? "paced warm-up" : "paced";
  const { record, latenciesUs } = await runPhase(sys, kind, round, size, count, true, (tag) =>
    sys.sender.request<SendReport>(
      { cmd: "paced", tag, size, count, ratePerSec: rate },
      (count / rate) * 1000 + 60_000,
    ),
  );
  const s = summarize(latenciesUs ?? []);
  if (s.min < 0)
    log(`  warning: negative one-way latency (${s.min.toFixed(0)} µs): process clocks disagree`);
  log(
    `  ${sys.name.padEnd(15)} ${formatSize(size).padStart(6)} ${warmUp ? "warm-up " : ""}latency: p50 ${formatUs(s.p50)} µs, p99 ${formatUs(s.p99)} µs, ` +
      `max ${formatUs(s.max)} µs (${count} msgs at ${rate}/s) cpu: ${cpuLine(record.cpu)}`,
  );
  return s;
}

/** One hmx pair on `hv`: two fresh domains, the sender socket batching as `tuning` says. */
async function startHmx(
  hv: HypervisorProcess,
  name: "hmx-unbatched" | "hmx-batched",
  tuning: { maxBatchMessages?: number; maxBatchBytes?: number; maxBatchesInFlight?: number },
): Promise<System> {
  const toolstack = new ToolstackClient(hv.controlListen, hv.adminToken);
  try {
    const rxDom = await toolstack.createDomain({
      name: `${name}-rx`,
      label: "bench",
      memoryBytes: CONFIG.guestMemoryBytes,
    });
    const txDom = await toolstack.createDomain({
      name: `${name}-tx`,
      label: "bench",
      memoryBytes: CONFIG.guestMemoryBytes,
    });
    const base = {
      kind: "hmx",
      address: hv.listen,
      memoryBytes: CONFIG.guestMemoryBytes,
      aport: CONFIG.aport,
      ringLen: CONFIG.ringLen,
      ...(CONFIG.virqRingBytes === null ? {} : { virqRingBytes: CONFIG.virqRingBytes }),
    } as const;
    const receiver = new Worker(`${name} receiver`, "hmx-worker.js");
    const rxInit: TransportInit = { ...base, credential: rxDom.credential, peerDomid: txDom.domid };
    await receiver.request<InitReport>(
      { cmd: "init", role: "receiver", transport: rxInit },
      30_000,
    );
    const sender = new Worker(`${name} sender`, "hmx-worker.js");
    const txInit: TransportInit = {
      ...base,
      ...tuning,
      credential: txDom.credential,
      peerDomid: rxDom.domid,
    };
    await sender.request<InitReport>({ cmd: "init", role: "sender", transport: txInit }, 30_000);
    log(
      `${name}: receiver dom${rxDom.domid} (pid ${receiver.pid}, ring ${CONFIG.ringLen} B), sender dom${txDom.domid} (pid ${sender.pid})`,
    );
    return {
      name,
      sender,
      receiver,
      pids: { hypervisor: hv.pid, sender: sender.pid, receiver: receiver.pid },
    };
  } finally {
    toolstack.close();
  }
}

/** A relay process and its two clients; `batch` = the batched baseline. */
async function startBaseline(
  name: "relay-unbatched" | "relay-batched",
  batch?: { maxMessages: number; maxBytes: number },
): Promise<{ sys: System; stopRelay: () => Promise<void> }> {
  const relay = await spawnUntilReady(
    process.execPath,
    [...nodeFlags(), distScript("relay-server.js")],
    {
      env: process.env,
      cwd: REPO_ROOT,
      readyMsg: "relay ready",
      timeoutMs: 15_000,
      ipc: true,
    },
  );
  const address = relay.ready["listen"];
  if (typeof address !== "string") throw new Error("relay ready line lacks listen");
  const init: TransportInit = { kind: "relay", address, ...(batch === undefined ? {} : { batch }) };
  const receiver = new Worker(`${name} receiver`, "relay-worker.js");
  await receiver.request({ cmd: "init", role: "receiver", transport: init }, 30_000);
  const sender = new Worker(`${name} sender`, "relay-worker.js");
  await sender.request({ cmd: "init", role: "sender", transport: init }, 30_000);
  const relayPid = relay.child.pid ?? -1;
  log(
    `${name}: relay at ${address} (pid ${relayPid}), receiver pid ${receiver.pid}, sender pid ${sender.pid}`,
  );
  return {
    sys: {
      name,
      sender,
      receiver,
      pids: { relay: relayPid, sender: sender.pid, receiver: receiver.pid },
    },
    stopRelay: () => stopChild(relay.child),
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** `systems` rotated by `round`, so that each system runs at a different place in each round. */
function rotated<T>(systems: readonly T[], round: number): T[] {
  const k = round % systems.length;
  return [...systems.slice(k), ...systems.slice(0, k)];
}

async function main(): Promise<number> {
  const env = environment();
  log(
    `hmx bench${quick ? " (--quick: bounds shrunk, numbers not comparable)" : ""}: node ${env.node}, ${env.cpus} × ${env.cpuModel}`,
  );
  const systems: System[] = [];
  let hv: HypervisorProcess | null = null;
  const relayStops: (() => Promise<void>)[] = [];
  const startDate = new Date();
  const results: Record<string, unknown> = { ...env, config: CONFIG };
  const cpuProf = CONFIG.cpuProfDir;
  if (cpuProf !== null) {
    const dir = resolve(cpuProf);
    mkdirSync(dir, { recursive: true });
    setChildNodeFlags(["--cpu-prof", `--cpu-prof-dir=${dir}`]);
    log(`CPU profiles of every child go to ${dir}`);
  }
  if (
    CONFIG.senderBatch.maxBatchBytes !== null ||
    CONFIG.senderBatch.maxBatchMessages !== null ||
    CONFIG.senderBatch.maxBatchesInFlight !== null
  ) {
    log(
      `hmx sender batching overridden: ${JSON.stringify(CONFIG.senderBatch)} (not the default configuration)`,
    );
  }
  try {
    let rows: SizeResult[] = [];
    // --only picks phases: the traffic comparison runs unless another phase was asked for.
    if (CONFIG.traffic) {
      log("starting the hypervisor (node cli/bin/hmx.js hypervisor --argo-mac-permissive) …");
      hv = await startHypervisorProcess({
        nodeArgs: CONFIG.hypervisorFlags,
        ...(CONFIG.hypervisorLog === null ? {} : { logFile: resolve(CONFIG.hypervisorLog) }),
      });
      log(
        `hypervisor pid ${hv.pid} at ${hv.listen}, toolstack at ${hv.controlListen} (launcher: ${hv.launcher})`,
      );
      if (hv.launcherNote !== null) log(`  note: ${hv.launcherNote}`);
      results["hypervisorLauncher"] = hv.launcher;
      results["hypervisorLauncherNote"] = hv.launcherNote;
      // --batch-* change both batched systems, so that they still carry the same batches.
      const { maxBatchBytes, maxBatchMessages, maxBatchesInFlight } = CONFIG.senderBatch;
      const batch = {
        maxMessages: maxBatchMessages ?? DEFAULT_BATCH.maxMessages,
        maxBytes: maxBatchBytes ?? DEFAULT_BATCH.maxBytes,
      };
      // Unbatched: one message per multicall, as relay-unbatched carries one per gRPC message;
      // both keep several in flight (the relay writes until its stream pushes back, a socket
      // sends its default multicalls in flight, or --batch-in-flight's).
      systems.push(
        await startHmx(hv, "hmx-unbatched", {
          maxBatchMessages: 1,
          ...(maxBatchesInFlight === null ? {} : { maxBatchesInFlight }),
        }),
      );
      systems.push(
        await startHmx(hv, "hmx-batched", {
          ...(maxBatchBytes === null ? {} : { maxBatchBytes }),
          ...(maxBatchMessages === null ? {} : { maxBatchMessages }),
          ...(maxBatchesInFlight === null ? {} : { maxBatchesInFlight }),
        }),
      );
      log("starting the two baseline relays and their clients …");
      for (const [name, b] of [
        ["relay-unbatched", undefined],
        ["relay-batched", batch],
      ] as const) {
        const baseline = await startBaseline(name, b);
        systems.push(baseline.sys);
        relayStops.push(baseline.stopRelay);
      }
      const system = (name: SystemName): System => {
        const sys = systems.find((s) => s.name === name);
        if (sys === undefined) throw new Error(`no system ${name}`);
        return sys;
      };

      const throughputs = new Map<string, number[]>();
      for (const size of CONFIG.sizes) {
        const saturatedRounds = CONFIG.latencyOnly ? 0 : CONFIG.rounds;
        log(
          `throughput, ${formatSize(size)}: warm-up, then ${saturatedRounds} round(s) of ≤${CONFIG.maxMessages} msgs / ${CONFIG.maxSendMs / 1000} s per system …`,
        );
        for (const sys of systems) await saturated(sys, size, 0, true);
        for (let round = 1; round <= saturatedRounds; round++) {
          for (const sys of rotated(systems, round)) {
            const r = await saturated(sys, size, round, false);
            const key = `${sys.name}:${size}`;
            throughputs.set(key, [...(throughputs.get(key) ?? []), r.msgsPerSec]);
          }
        }
      }

      // Latency: hmx's default socket (what a program gets) against the plain relay.
      const latencySystems = [system("hmx-batched"), system("relay-unbatched")];
      // Each round's summary; the round with the median p50 is reported (a shared machine's
      // scheduling noise moves a whole round, so one round alone says little).
      const latencies = new Map<string, Summary[]>();
      for (const size of CONFIG.sizes) {
        log(
          `latency, ${formatSize(size)}: a warm-up, then ${CONFIG.rounds} round(s) of ${CONFIG.latencyCount} msgs at ${CONFIG.latencyRatePerSec[size] ?? 1000}/s per system …`,
        );
        // A paced message takes paths a saturated round does not (one message per multicall, a
        // VIRQ each), whose code V8 has not optimised yet: hmx's first paced round ran 1.2–1.5×
        // slower than its later ones. Each system gets one unmeasured paced round first.
        for (const sys of latencySystems) await paced(sys, size, 0, true);
        for (let round = 1; round <= CONFIG.rounds; round++) {
          for (const sys of rotated(latencySystems, round)) {
            const key = `${sys.name}:${size}`;
            const summary = await paced(sys, size, round, false);
            latencies.set(key, [...(latencies.get(key) ?? []), summary]);
          }
        }
      }
      const medianRound = (key: string): Summary => {
        const rounds = [...(latencies.get(key) ?? [])].sort((a, b) => a.p50 - b.p50);
        return rounds[Math.ceil(rounds.length / 2) - 1] ?? summarize([]);
      };

      rows = CONFIG.sizes.map((size) => {
        const pairing = (hmx: SystemName, relay: SystemName): Pairing => {
          const hmxRounds = throughputs.get(`${hmx}:${size}`) ?? [];
          const relayRounds = throughputs.get(`${relay}:${size}`) ?? [];
          const h = summarize(hmxRounds).p50;
          const r = summarize(relayRounds).p50;
          return { hmx: h, relay: r, ratio: ratio(h, r), hmxRounds, relayRounds };
        };
        const hmxLatency = medianRound(`hmx-batched:${size}`);
        const relayLatency = medianRound(`relay-unbatched:${size}`);
        return {
          payload: size,
          unbatched: pairing("hmx-unbatched", "relay-unbatched"),
          batched: pairing("hmx-batched", "relay-batched"),
          latency: {
            hmx: hmxLatency,
            relay: relayLatency,
            // Latency ratio: hmx ÷ relay, > 1 = hmx slower.
            ratioP50: ratio(hmxLatency.p50, relayLatency.p50),
          },
        };
      });
      results["results"] = rows;

      log("closing the traffic processes …");
      await Promise.all(systems.map((s) => Promise.all([s.sender.close(), s.receiver.close()])));
      systems.length = 0;
      await Promise.all(relayStops.splice(0).map((stop) => stop()));
      await hv.stop();
      hv = null;
    }

    let memory: MemoryResult | null = null;
    if (CONFIG.memory) {
      log(`memory per idle domain: a fresh hypervisor, ${CONFIG.idleDomains} domains of 16 MiB …`);
      memory = await measureMemory(CONFIG.idleDomains, log);
    }
    results["memory"] = memory;
    let mac: MacBenchResult | null = null;
    if (CONFIG.mac) {
      log(
        `MAC cost: in-process sendv, dummy vs a ${MAC_BENCH_RULES}-rule flask policy + ${MAC_BENCH_RULES}-rule firewall …`,
      );
      mac = await runMacBench();
    }
    results["mac"] = mac;
    let vio: VirtioBenchResult | null = null;
    if (CONFIG.virtio) {
      log(
        "VirtIO: virtio-blk 4 KiB random / 1 MiB sequential and virtio-net frames, over Argo (one process, and blk in three processes) and in-process loopback …",
      );
      vio = await runVirtioBench({
        rounds: CONFIG.rounds,
        ...(CONFIG.virtioPhases === null ? {} : { blkTests: CONFIG.virtioPhases }),
      });
    }
    results["virtio"] = vio;
    let hostile: HostileRow[] | null = null;
    if (CONFIG.hostile) {
      hostile = await runHostileBench(HOSTILE_SEED, log);
    }
    results["hostile"] = hostile;
    let faults: FaultBenchResult | null = null;
    if (CONFIG.faults) {
      log("fault engines idle: Argo engine loaded vs absent (sendv), link-fault layer on vs off …");
      faults = await runFaultBench(CONFIG.quick ? { roundMs: 500, rounds: 1 } : {});
    }
    results["faults"] = faults;
    let pairs: PairsBenchResult | null = null;
    if (CONFIG.pairs) {
      // Quick still needs a window longer than a loaded machine's first batches take to land
      // (with 1 s, every pair's in-window count was 0 at load 15).
      const o = quick
        ? { ...DEFAULT_PAIRS_OPTIONS, warmupMs: 1000, windowMs: 2000 }
        : DEFAULT_PAIRS_OPTIONS;
      log(
        `scale: ${o.pairs} sender/receiver pairs at once, ${formatSize(o.payload)}, ${o.windowMs / 1000} s window …`,
      );
      pairs = await runPairsBench(o, log);
    }
    results["pairs"] = pairs;
    let state: StateBenchResult | null = null;
    if (CONFIG.state) {
      log("--state-dir: Session traffic with and without the state journal, then a restart …");
      state = await runStateBench(
        CONFIG.quick
          ? { roundMs: 500, rounds: 1, latencyCalls: 300, restartDomains: 100, historyCalls: 5000 }
          : {},
      );
    }
    results["state"] = state;
    let history: string[] | null = null;
    if (CONFIG.history) {
      log("harness surface: metrics on, history with a live WebSocket subscriber, vs plain …");
      history = await runHistoryBench(
        {
          ...(CONFIG.quick ? { rounds: 1, seconds: 1 } : { rounds: 5, seconds: 2 }),
          cpuProfDir: CONFIG.cpuProfDir,
        },
        log,
      );
    }
    results["history"] = history;
    results["phases"] = phases;
    results["durationSec"] = Math.round((now() - started) / 100) / 10;
    const verdicts = targetVerdicts(rows);
    results["targets"] = verdicts;

    const traffic = rows.length > 0;
    if (traffic) {
      console.log("");
      console.log(consoleTable(rows));
      console.log("");
      console.log(
        `(throughput: median of ${CONFIG.rounds} saturated rounds; MB/s = 10^6 payload bytes/s; latency: one-way, paced phase)`,
      );
      for (const line of verdictLines(verdicts, JUDGED)) console.log(line);
    }
    // This is often a shared machine: say how much CPU other processes took meanwhile.
    const measured = phases.filter((p) => p.kind === "saturated");
    const background = measured.length > 0 ? mean(measured.map((p) => p.cpu["others"] ?? 0)) : null;
    results["backgroundCpu"] = background;
    if (background !== null) {
      console.log(
        `background load during the saturated phases: ${background.toFixed(2)} CPUs of ${env.cpus} used by other processes` +
          (background > 0.25
            ? " — numbers are disturbed; rerun on a quiet machine to compare"
            : ""),
      );
    }
    if (memory !== null) console.log(idleLine(memory));
    if (pairs !== null) console.log(pairsLine(pairs));
    if (memory !== null) {
      console.log(
        `memory per idle domain (16 MiB, untouched): ${memory.rss.bytesPerDomain.toLocaleString("en-US")} B by hypervisor RSS; ` +
          `${memory.inProcess.bytesPerDomain.toLocaleString("en-US")} B heap+external in process after GC`,
      );
    }
    if (mac !== null) console.log(macLine(mac));
    if (vio !== null) console.log(`\n${virtioTable(vio, JUDGED)}`);
    if (hostile !== null) console.log(`\n${hostileTable(hostile)}`);
    for (const line of faults === null ? [] : faultBenchLines(faults, JUDGED)) console.log(line);
    for (const line of state === null ? [] : stateBenchLines(state, JUDGED)) console.log(line);
    if (history !== null) console.log(`\n${history.join("\n")}`);
    console.log("\nMarkdown:\n");
    if (traffic) {
      console.log(markdownTable(rows));
      for (const line of verdictLines(verdicts, JUDGED)) console.log(`- ${line}`);
    }
    if (memory !== null) {
      console.log(
        `- Memory per idle domain (16 MiB, untouched): ${memory.rss.bytesPerDomain.toLocaleString("en-US")} B (hypervisor RSS over ${memory.rss.domains} domains), ` +
          `${memory.inProcess.bytesPerDomain.toLocaleString("en-US")} B (heap after GC, in process).`,
      );
    }
    if (memory !== null) console.log(`- ${idleLine(memory)}`);
    if (pairs !== null) console.log(`- ${pairsLine(pairs)}`);
    if (mac !== null) console.log(`- ${macLine(mac)}`);
    if (vio !== null) console.log(`\n${virtioTable(vio, JUDGED)}\n`);
    for (const line of faults === null ? [] : faultBenchLines(faults, JUDGED))
      console.log(`- ${line}`);
    for (const line of state === null ? [] : stateBenchLines(state, JUDGED))
      console.log(`- ${line}`);
    if (history !== null) console.log(`\n${history.join("\n")}\n`);
    if (traffic) {
      const rates = CONFIG.sizes.map(
        (s) => `${CONFIG.latencyRatePerSec[s] ?? "?"}/s at ${formatSize(s)}`,
      );
      console.log(
        `- Throughput: saturated sender, ≤${CONFIG.maxMessages.toLocaleString("en-US")} messages or ${CONFIG.maxSendMs / 1000} s, ` +
          `median of ${CONFIG.rounds} rounds, every message checked to arrive exactly once. Unbatched: hmx's socket ` +
          `with one message per multicall vs the relay with one payload per gRPC message. Batched: libargo's default ` +
          `(≤${DEFAULT_BATCH.maxMessages} messages, ≤${DEFAULT_BATCH.maxBytes / 1024} KiB per multicall) vs the relay ` +
          `packing as many payloads per gRPC message; the hmx receivers' rings hold ${CONFIG.ringLen.toLocaleString("en-US")} bytes. Latency: one-way, hmx's default socket vs the unbatched relay, ` +
          `${CONFIG.latencyCount.toLocaleString("en-US")} paced messages (${rates.join(", ")}), the round with the median p50 of ${CONFIG.rounds}.`,
      );
      console.log(
        `- Measured ${env.date.slice(0, 10)} on ${env.cpus} × ${env.cpuModel}, node ${env.node}; each party a separate process ` +
          `(hypervisor + 2 guests per hmx system; relay + 2 clients per baseline); load average ${env.loadAverage.join(" / ")} at the start, ` +
          `background load ${(background ?? 0).toFixed(2)} CPUs; \`npm run bench\`.`,
      );
    } else {
      console.log(
        `- Measured ${env.date.slice(0, 10)} on ${env.cpus} × ${env.cpuModel}, node ${env.node}; \`npm run bench -- ${process.argv.slice(2).join(" ")}\`.`,
      );
    }
    const path = writeResults(
      join(REPO_ROOT, "bench-results", ...(CONFIG.experimental ? ["experiments"] : [])),
      { ok: true, ...results },
      startDate,
    );
    console.log("");
    log(`results: ${path} (and latest.json beside it)`);
    return 0;
  } catch (err) {
    console.error(
      `\nbench FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    results["error"] = err instanceof Error ? err.message : String(err);
    results["phases"] = phases;
    try {
      const path = writeResults(
        join(REPO_ROOT, "bench-results", "failed"),
        { ok: false, ...results },
        startDate,
      );
      console.error(`partial results: ${path}`);
    } catch {
      // nothing more to do
    }
    return 1;
  } finally {
    await Promise.allSettled(
      systems.map((s) => Promise.all([s.sender.close(), s.receiver.close()])),
    );
    await Promise.all(relayStops.map((stop) => stop()));
    await hv?.stop();
    await killAll();
    const left = liveChildren();
    log(
      left === 0 ? "all child processes stopped" : `WARNING: ${left} child processes still alive`,
    );
  }
}

process.exitCode = await main();

/** One line on the hypervisor's RSS with every idle domain, with its target verdict. */
function idleLine(memory: MemoryResult): string {
  const { rssAfterBytes, domains } = memory.rss;
  const met = rssAfterBytes < IDLE_RSS_TARGET_BYTES;
  return (
    `scale: hypervisor RSS with ${domains.toLocaleString("en-US")} idle domains ` +
    `${(rssAfterBytes / 1024 ** 2).toFixed(1)} MiB (target < 1 GiB) — ${verdictWord(met, JUDGED)}`
  );
}

/** One line on the concurrent pairs, with the fairness verdict. */
function pairsLine(p: PairsBenchResult): string {
  return (
    `scale: ${p.options.pairs} pairs at once (${formatSize(p.options.payload)}, ${p.workers} worker processes): ` +
    `${formatRate(p.aggregateMsgsPerSec)} msgs/s together, per pair ${formatRate(p.minPairMsgsPerSec)}–${formatRate(p.maxPairMsgsPerSec)}, ` +
    `Jain's index ${p.jainIndex.toFixed(3)} (target >= ${FAIRNESS_TARGET}) — ${verdictWord(p.meetsFairnessTarget, JUDGED)}`
  );
}

/** One line on what MAC costs, with its target verdict. */
function macLine(mac: MacBenchResult): string {
  const [dummy, flask] = mac.rows;
  return (
    `MAC cost (sendv, ${mac.payloadBytes} B, in process): dummy ${Math.round(dummy?.msgsPerSec ?? 0).toLocaleString("en-US")} msgs/s, ` +
    `flask ${MAC_BENCH_RULES} rules + firewall ${MAC_BENCH_RULES} rules ${Math.round(flask?.msgsPerSec ?? 0).toLocaleString("en-US")} msgs/s, ` +
    `ratio ${mac.ratio.toFixed(2)} (target >= ${mac.targetRatio}) — ${verdictWord(mac.meetsTarget, JUDGED)}`
  );
}

/**
 * The VirtIO rows as a Markdown table: over Argo with every party in this one process, and with
 * the hypervisor, back end and front end in three processes, against the same device model in
 * process; with the CPU every party spent per request.
 */
function virtioTable(vio: VirtioBenchResult, judged: boolean): string {
  const tests = [...new Set(vio.rows.map((r) => r.test))];
  const lines = [
    "| virtio test | in-process loopback | Argo, one process (ratio) | Argo, three processes (ratio) | CPU µs / request: loopback, one process, three (hv + BE + FE) | multicalls / KiB moved per request (one, three) |",
    "|---|--:|--:|--:|--:|--:|",
  ];
  const fmt = (r: VirtioBenchRow | undefined, ratio: RoundRatio | undefined) =>
    r === undefined
      ? "–"
      : `${Math.round(r.value).toLocaleString("en-US")} ${r.unit}` +
        (ratio === undefined
          ? ""
          : ratio.rounds.length < 2
            ? ` (${ratio.median.toFixed(3)})`
            : ` (${ratio.median.toFixed(3)}; ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`);
  const cpu = (r: VirtioBenchRow | undefined) =>
    r?.cpuUsPerRequest === undefined ? "–" : Math.round(r.cpuUsPerRequest).toLocaleString("en-US");
  const work = (r: VirtioBenchRow | undefined) =>
    r?.work === undefined
      ? "–"
      : `${r.work.multicalls.toFixed(2)} / ${(r.work.memoryBytes / 1024).toFixed(1)}`;
  for (const test of tests) {
    const at = (transport: VirtioBenchRow["transport"]) =>
      vio.rows.find((r) => r.test === test && r.transport === transport);
    const loop = at("loopback");
    const one = at("argo");
    const three = at("argo-processes");
    const parties =
      three?.cpuByParty === undefined
        ? ""
        : ` (${[three.cpuByParty.hypervisor, three.cpuByParty.backend, three.cpuByParty.frontend].map((v) => Math.round(v).toLocaleString("en-US")).join(" + ")})`;
    lines.push(
      `| ${test} | ${fmt(loop, undefined)} | ${fmt(one, vio.ratioRounds[test])} | ${fmt(three, vio.processRatioRounds[test])} | ${cpu(loop)}, ${cpu(one)}, ${cpu(three)}${parties} | ${work(one)}, ${work(three)} |`,
    );
  }
  lines.push(
    "",
    `(${vio.rounds} round(s): each rate is the median round's; each ratio is the median of the ` +
      "rounds' own argo ÷ loopback ratios, then the lowest–highest)",
    ...virtioVerdicts(vio, judged).map((line) => `- ${line}`),
  );
  return lines.join("\n");
}
