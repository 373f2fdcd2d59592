// SPDX-License-Identifier: Apache-2.0
/**
 * The benchmark's configuration: the published defaults, and the few command-line options
 * that exist for investigating (a quick smoke run, a subset of sizes, profiles, GC traces,
 * other sender batching). Parsing is pure and throws `UsageError` on a bad option, so that
 * `main.ts` can print the usage and exit 2.
 */
import { parseArgs } from "node:util";
import { ARGO_MAX_RING_PAGES, ringLenForPages } from "@hmx/proto/abi";
import { BLK_TESTS, type BlkTest } from "./virtio-blk-phases.js";

export const BENCH_USAGE = `usage: node bench/dist/main.js [options]   (npm run bench)

  --quick                   shrink every bound (tries the harness; numbers not comparable)
  --sizes 64,1024,65536     payload sizes in bytes (default: 64, 1 KiB, 64 KiB)
  --no-memory               skip the memory-per-idle-domain measurement
  --no-mac                  skip the MAC cost measurement (1,000-rule policy + firewall vs dummy)
  --no-virtio               skip the VirtIO measurement (virtio-blk and virtio-net over Argo vs loopback)
  --no-hostile              skip the hostile-peer measurement (each testkit attack vs a victim pair)
  --no-faults               skip the fault engines' idle cost (Argo engine loaded vs absent, link layer on vs off)
  --no-pairs                skip the scale phase's 50 concurrent pairs (aggregate msgs/s, Jain's index)
  --no-state                skip the --state-dir cost and restart measurement (docs/state.md)
  --no-history              skip the harness surface's cost (metrics on; history with a live
                            WebSocket subscriber), each a ratio of the plain hypervisor
  --only PHASES             run only these phases, comma-separated, of: traffic (hmx vs the relay),
                            memory, mac, virtio, hostile, faults, pairs, state, history;
                            e.g. --only virtio
                            (cannot be combined with --no-*)
  --virtio-phases TESTS     virtio phase: only these blk tests, comma-separated, of:
                            blk-4k-randwrite, blk-4k-randread, blk-1m-seqwrite,
                            blk-1m-seqread (and no net phase)
  --cpu-prof DIR            run every child process with node --cpu-prof into DIR
  --hypervisor-flags=FLAGS  extra node flags for the traffic hypervisor (e.g. --trace-gc)
  --hypervisor-log FILE     append the traffic hypervisor's stdout to FILE
  --batch-bytes N           hmx sender socket maxBatchBytes (default: libargo's)
  --batch-messages N        hmx sender socket maxBatchMessages (default: libargo's)
  --batch-in-flight N       hmx sender sockets' maxBatchesInFlight: send multicalls out at once
                            (default: libargo's), for hmx-batched and hmx-unbatched alike
  --virq-ring-bytes N       ring bytes each VIRQ carries to the hmx guests (SessionClient's
                            virqRingBytes; 0 = none, the receiver reads after each VIRQ)
  --ring-pages N            pages of the traffic receivers' rings (default ${ARGO_MAX_RING_PAGES}, Argo's
                            largest ring: 16 MiB, what the relay may hold in flight; see
                            docs/performance.md "The receiver's ring and the VIRQ budget")
  --latency-only            traffic phase: keep the warm-ups and the paced latency rounds, skip
                            the saturated throughput rounds (for latency A/B runs)
  --paced-rate N            paced latency rounds: N messages/s at every size (default 1000/s,
                            250/s above 4 KiB; a low rate shows wake-ups from idle)
  --paced-count N           paced latency rounds: messages per round (default 2000; --quick: 300)
  --rounds N                rounds per size and system, and of the whole virtio phase
                            (default 3; --quick: 1)
  -h, --help                show this help`;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface BenchConfig {
  /**
   * True when any option changed what is measured: such a run writes to
   * bench-results/experiments/, so that bench-results/latest.json is always a full default run.
   */
  readonly experimental: boolean;
  readonly quick: boolean;
  readonly sizes: readonly number[];
  /**
   * Saturated and paced rounds per size and system (the median is reported), rotating the
   * order.
   */
  readonly rounds: number;
  /** Skip the saturated throughput rounds (warm-ups and paced latency rounds still run). */
  readonly latencyOnly: boolean;
  readonly maxMessages: number;
  readonly maxSendMs: number;
  readonly warmupMessages: number;
  readonly warmupMs: number;
  readonly latencyCount: number;
  /** Paced rate of each payload size, messages per second. */
  readonly latencyRatePerSec: Readonly<Record<number, number>>;
  readonly ringLen: number;
  readonly guestMemoryBytes: number;
  readonly idleDomains: number;
  readonly aport: number;
  /** The hmx-vs-relay traffic comparison (throughput and latency per payload size). */
  readonly traffic: boolean;
  readonly memory: boolean;
  /** Measure sendv under a 1,000-rule policy and firewall against dummy (mac-bench.ts). */
  readonly mac: boolean;
  /** Measure virtio-blk / virtio-net over Argo against the in-process loopback (virtio-bench.ts). */
  readonly virtio: boolean;
  /** `--virtio-phases`: only these blk phases, no net phase; null = all of them. */
  readonly virtioPhases: readonly BlkTest[] | null;
  /** Each hostile-peer attack against a fresh hypervisor with a victim pair (hostile-bench.ts). */
  readonly hostile: boolean;
  /** The fault engines' idle cost: Argo engine loaded vs absent, link layer on vs off (fault-bench.ts). */
  readonly faults: boolean;
  /** 50 sender/receiver pairs at once: aggregate msgs/s and fairness (pairs-bench.ts). */
  readonly pairs: boolean;
  /** The `--state-dir` phase (bench/src/state-bench.ts). */
  readonly state: boolean;
  /** The harness surface's cost: metrics on, history + a live subscriber (history-bench.ts). */
  readonly history: boolean;
  readonly cpuProfDir: string | null;
  readonly hypervisorFlags: readonly string[];
  readonly hypervisorLog: string | null;
  /** SessionClient `virqRingBytes` of the hmx guests; null = the client's default. */
  readonly virqRingBytes: number | null;
  /** Overrides of the hmx sender socket's batching; null = libargo's default. */
  readonly senderBatch: {
    readonly maxBatchBytes: number | null;
    readonly maxBatchMessages: number | null;
    readonly maxBatchesInFlight: number | null;
  };
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function nonNegativeInt(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * A positive integer no larger than `max`; past it, the error names the bound, `why` it is
 * there, and the value.
 */
function positiveIntAtMost(name: string, value: string, max: number, why: string): number {
  const n = positiveInt(name, value);
  if (n > max) throw new UsageError(`--${name} must be at most ${max}${why}, got ${n}`);
  return n;
}

/** The highest `--paced-rate`: faster than this, the paced phase measures a queue. */
const MAX_PACED_RATE = 100_000;

/** The most `--paced-count` messages per round (each one's latency is kept until the report). */
const MAX_PACED_COUNT = 1_000_000;

/**
 * Paced rate per payload size: "moderate" means a small fraction of either system's capacity,
 * so the figure is the latency of one message rather than of a queue. 1000/s of 64 KiB would
 * be 65 MB/s, most of what the hmx path carries at all, so large payloads go at 250/s.
 */
export function pacedRate(size: number): number {
  return size > 4096 ? 250 : 1000;
}

const PHASES = [
  "traffic",
  "memory",
  "mac",
  "virtio",
  "hostile",
  "faults",
  "pairs",
  "state",
  "history",
] as const;
type Phase = (typeof PHASES)[number];

/** `--only a,b`: the set of phases to run; null when not given (every phase not `--no-`ed). */
function onlyPhases(only: string | undefined, enabled: readonly boolean[]): Set<Phase> | null {
  if (only === undefined) return null;
  if (enabled.includes(false)) throw new UsageError("--only cannot be combined with --no-*");
  const phases = new Set<Phase>();
  for (const name of only.split(",").map((v) => v.trim())) {
    const phase = PHASES.find((p) => p === name);
    if (phase === undefined) {
      throw new UsageError(
        `--only: unknown phase ${JSON.stringify(name)} (phases: ${PHASES.join(", ")})`,
      );
    }
    phases.add(phase);
  }
  return phases;
}

/** `--virtio-phases a,b`: those blk tests, in `BLK_TESTS` order; null when not given. */
function virtioPhases(list: string | undefined): BlkTest[] | null {
  if (list === undefined) return null;
  const names = list.split(",").map((v) => v.trim());
  for (const name of names) {
    if (!BLK_TESTS.some((t) => t === name)) {
      throw new UsageError(
        `--virtio-phases: unknown test ${JSON.stringify(name)} (tests: ${BLK_TESTS.join(", ")})`,
      );
    }
  }
  return BLK_TESTS.filter((t) => names.includes(t));
}

/** Parses `argv` (without node and the script); "help" when help was asked for. */
export function parseBenchOptions(argv: readonly string[]): BenchConfig | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: "boolean", default: false },
        sizes: { type: "string" },
        memory: { type: "boolean", default: true },
        mac: { type: "boolean", default: true },
        virtio: { type: "boolean", default: true },
        hostile: { type: "boolean", default: true },
        faults: { type: "boolean", default: true },
        pairs: { type: "boolean", default: true },
        state: { type: "boolean", default: true },
        history: { type: "boolean", default: true },
        only: { type: "string" },
        "virtio-phases": { type: "string" },
        "cpu-prof": { type: "string" },
        "hypervisor-flags": { type: "string" },
        "hypervisor-log": { type: "string" },
        "batch-bytes": { type: "string" },
        "batch-messages": { type: "string" },
        "batch-in-flight": { type: "string" },
        "virq-ring-bytes": { type: "string" },
        "ring-pages": { type: "string" },
        "latency-only": { type: "boolean", default: false },
        "paced-rate": { type: "string" },
        "paced-count": { type: "string" },
        rounds: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowNegative: true,
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return "help";
  const quick = values.quick;
  const sizes =
    values.sizes === undefined
      ? [64, 1024, 64 * 1024]
      : values.sizes.split(",").map((v) => positiveInt("sizes", v.trim()));
  for (const s of sizes) {
    if (s < 16) throw new UsageError(`--sizes: ${s} is below the 16-byte message header`);
  }
  const phases = onlyPhases(values.only, [
    values.memory,
    values.mac,
    values.virtio,
    values.hostile,
    values.faults,
    values.pairs,
    values.state,
    values.history,
  ]);
  const batchBytes = values["batch-bytes"];
  const batchMessages = values["batch-messages"];
  const batchInFlight = values["batch-in-flight"];
  const virqRingBytes = values["virq-ring-bytes"];
  const ringPages = values["ring-pages"];
  const latencyOnly = values["latency-only"];
  const pacedRateOption = values["paced-rate"];
  const pacedCount = values["paced-count"];
  const defaultPacedCount = quick ? 300 : 2000;
  const pacedRateOverride =
    pacedRateOption === undefined
      ? null
      : positiveIntAtMost(
          "paced-rate",
          pacedRateOption,
          MAX_PACED_RATE,
          " messages/s (a paced phase measures one message, not a queue)",
        );
  const rounds =
    values.rounds === undefined ? (quick ? 1 : 3) : positiveInt("rounds", values.rounds);
  const experimental =
    quick ||
    values.sizes !== undefined ||
    !values.memory ||
    !values.mac ||
    !values.virtio ||
    !values.hostile ||
    !values.faults ||
    !values.pairs ||
    !values.state ||
    !values.history ||
    phases !== null ||
    values["virtio-phases"] !== undefined ||
    values["cpu-prof"] !== undefined ||
    values["hypervisor-flags"] !== undefined ||
    batchBytes !== undefined ||
    batchMessages !== undefined ||
    batchInFlight !== undefined ||
    virqRingBytes !== undefined ||
    ringPages !== undefined ||
    latencyOnly ||
    pacedRateOption !== undefined ||
    pacedCount !== undefined ||
    values.rounds !== undefined;
  return {
    experimental,
    quick,
    sizes,
    rounds,
    latencyOnly,
    // A saturated round ends on time: the count only bounds the receiver's tally (a byte per
    // message). Capped at 200,000, the batched relay's 64 B round lasted ~0.2 s against hmx's
    // ~1 s, a sample short enough that its rate moved by half between runs, and one taken
    // before the relay's hot path had run long.
    maxMessages: quick ? 20_000 : 10_000_000,
    maxSendMs: quick ? 1000 : 5000,
    // A warm-up ends on time too: 20,000 messages took the batched systems 0.03-0.2 s, and
    // hmx-batched's first 64 B round then ran 0.6-0.8x its later ones (V8 still optimising).
    warmupMessages: quick ? 2000 : 10_000_000,
    warmupMs: quick ? 300 : 3000,
    latencyCount:
      pacedCount === undefined
        ? defaultPacedCount
        : positiveIntAtMost("paced-count", pacedCount, MAX_PACED_COUNT, ""),
    latencyRatePerSec: Object.fromEntries(sizes.map((s) => [s, pacedRateOverride ?? pacedRate(s)])),
    // Argo's largest ring by default: the relay may hold more than that in flight between its
    // sender and receiver (two 4 MiB HTTP/2 windows, two writable queues of 16 frames), so a
    // smaller ring would give hmx less room than its baseline (docs/performance.md).
    ringLen: ringLenForPages(
      ringPages === undefined
        ? ARGO_MAX_RING_PAGES
        : positiveIntAtMost("ring-pages", ringPages, ARGO_MAX_RING_PAGES, " (Argo's 16 MiB ring)"),
    ),
    guestMemoryBytes: 64 * 1024 * 1024,
    idleDomains: quick ? 100 : 10_000,
    aport: 1000,
    traffic: phases?.has("traffic") ?? true,
    memory: phases?.has("memory") ?? values.memory,
    mac: phases?.has("mac") ?? values.mac,
    virtio: phases?.has("virtio") ?? values.virtio,
    virtioPhases: virtioPhases(values["virtio-phases"]),
    hostile: phases?.has("hostile") ?? values.hostile,
    faults: phases?.has("faults") ?? values.faults,
    pairs: phases?.has("pairs") ?? values.pairs,
    state: phases?.has("state") ?? values.state,
    history: phases?.has("history") ?? values.history,
    cpuProfDir: values["cpu-prof"] ?? null,
    hypervisorFlags: values["hypervisor-flags"]?.split(" ").filter((f) => f !== "") ?? [],
    hypervisorLog: values["hypervisor-log"] ?? null,
    virqRingBytes:
      virqRingBytes === undefined ? null : nonNegativeInt("virq-ring-bytes", virqRingBytes),
    senderBatch: {
      maxBatchBytes: batchBytes === undefined ? null : positiveInt("batch-bytes", batchBytes),
      maxBatchMessages:
        batchMessages === undefined ? null : positiveInt("batch-messages", batchMessages),
      maxBatchesInFlight:
        batchInFlight === undefined ? null : positiveInt("batch-in-flight", batchInFlight),
    },
  };
}
