// SPDX-License-Identifier: Apache-2.0
/**
 * The cost of the link-fault layer with no fault active: the same pipelined Session traffic
 * (batches of 256-byte WriteMemory + ReadMemory, several batches in flight) against an
 * in-process hypervisor with the plain guest listener and with `linkFaults` on (every byte
 * through the relay's fault pipes, no toxic). Rounds alternate between the two and the best
 * round of each counts, so machine noise hits both alike. The target is a ratio (with faults /
 * without) of at least 0.95.
 */
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import { embeddedHypervisorConfig, startHypervisor, createLogger } from "@hmx/hypervisor";
import { randomBytes } from "node:crypto";

/** The ratio (fault layer on / off) the issue asks for. */
export const FAULT_BENCH_TARGET_RATIO = 0.95;

export interface FaultBenchOptions {
  /** Time per round in ms. Default 2,000. */
  readonly roundMs?: number;
  /** Rounds per configuration. Default 4. */
  readonly rounds?: number;
  /** Hypercalls per batch. Default 64. */
  readonly batchOps?: number;
  /** Batches in flight. Default 8. */
  readonly inFlight?: number;
}

export interface FaultBenchResult {
  /** Best round's hypercalls per second, without and with the fault layer. */
  readonly plainOpsPerSec: number;
  readonly faultsOpsPerSec: number;
  readonly roundsPlain: readonly number[];
  readonly roundsFaults: readonly number[];
  readonly ratio: number;
  readonly targetRatio: number;
  readonly meetsTarget: boolean;
}

const PAYLOAD_BYTES = 256;

/** One round: a fresh hypervisor, one guest, pipelined batches for `roundMs`; ops per second. */
async function round(withFaults: boolean, o: Required<FaultBenchOptions>): Promise<number> {
  const base = embeddedHypervisorConfig(randomBytes(24).toString("hex"));
  const hv = await startHypervisor(
    withFaults ? { ...base, linkFaults: { seed: 1 } } : base,
    createLogger("silent"),
  );
  const { credential } = hv.core.domains.create({
    name: "bench",
    label: "bench_t",
    memoryBytes: 8 * 1024 * 1024,
  });
  const client = await SessionClient.connect({ address: hv.listen, credential });
  try {
    const gpa = FIRST_GUEST_GFN * PAGE_SIZE;
    const data = randomBytes(PAYLOAD_BYTES);
    const ops: HypercallOp[] = [];
    for (let i = 0; i < o.batchOps / 2; i++) {
      ops.push({ op: "writeMemory", gpa: gpa + i * PAYLOAD_BYTES, data });
      ops.push({ op: "readMemory", gpa: gpa + i * PAYLOAD_BYTES, length: PAYLOAD_BYTES });
    }
    let done = 0;
    const started = performance.now();
    const deadline = started + o.roundMs;
    const lane = async (): Promise<void> => {
      while (performance.now() < deadline) {
        await client.batch(ops);
        done += ops.length;
      }
    };
    await Promise.all(Array.from({ length: o.inFlight }, lane));
    return (done * 1000) / (performance.now() - started);
  } finally {
    await client.close();
    await hv.stop();
  }
}

export async function runFaultBench(options: FaultBenchOptions = {}): Promise<FaultBenchResult> {
  const o: Required<FaultBenchOptions> = {
    roundMs: options.roundMs ?? 2000,
    rounds: options.rounds ?? 4,
    batchOps: options.batchOps ?? 64,
    inFlight: options.inFlight ?? 8,
  };
  const roundsPlain: number[] = [];
  const roundsFaults: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    // Alternate which goes first, so warm-up and drift favour neither.
    for (const withFaults of r % 2 === 0 ? [false, true] : [true, false]) {
      (withFaults ? roundsFaults : roundsPlain).push(await round(withFaults, o));
    }
  }
  const plainOpsPerSec = Math.max(...roundsPlain);
  const faultsOpsPerSec = Math.max(...roundsFaults);
  const ratio = faultsOpsPerSec / plainOpsPerSec;
  return {
    plainOpsPerSec,
    faultsOpsPerSec,
    roundsPlain,
    roundsFaults,
    ratio,
    targetRatio: FAULT_BENCH_TARGET_RATIO,
    meetsTarget: ratio >= FAULT_BENCH_TARGET_RATIO,
  };
}

/** One line for the report. */
export function faultBenchLine(r: FaultBenchResult): string {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  return (
    `Link-fault layer, no fault active: ${fmt(r.faultsOpsPerSec)} vs ${fmt(r.plainOpsPerSec)} hypercalls/s without it ` +
    `(${r.ratio.toFixed(2)}×; target ≥ ${r.targetRatio}×: ${r.meetsTarget ? "met" : "NOT met"})`
  );
}
