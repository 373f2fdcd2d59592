// SPDX-License-Identifier: Apache-2.0
/**
 * The four virtio-blk phases of the virtio bench, run on a `BlkDriver` whatever carries its
 * requests (in-process loopback, Argo with every party in one process, Argo with every party
 * in its own process): 4 KiB random write and read at a fixed queue depth, 1 MiB sequential
 * write and read at depth 1. Also the per-request work count of a guest's Session client.
 * Every phase is bounded by an operation count and a time cap.
 */
import { randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { BlkDriver } from "@hmx/virtio";
import type { SessionClient } from "./guest-lib.js";

export const BLK_TESTS = [
  "blk-4k-randwrite",
  "blk-4k-randread",
  "blk-1m-seqwrite",
  "blk-1m-seqread",
] as const;

export type BlkTest = (typeof BLK_TESTS)[number];

export interface BlkPhaseOptions {
  /** Most operations per phase. */
  readonly maxOps: number;
  /** Time cap per phase in ms. */
  readonly maxPhaseMs: number;
  /** Requests kept in flight for the 4 KiB phases. */
  readonly queueDepth: number;
}

export interface Phase {
  readonly ops: number;
  readonly ms: number;
}

/** Runs `op` with `depth` in flight until `maxOps` or `maxMs`. */
export async function drive(
  depth: number,
  maxOps: number,
  maxMs: number,
  op: (i: number) => Promise<void>,
): Promise<Phase> {
  const start = performance.now();
  let issued = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (issued < maxOps && performance.now() - start < maxMs) {
      const i = issued++;
      await op(i);
      done++;
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  return { ops: done, ms: performance.now() - start };
}

/**
 * Passes over the disk a 1 MiB phase makes at most. 16 over the default 64 MiB disk is 1,024
 * requests, about a second in process; 4 passes took the loopback 0.1–0.2 s, too short a phase
 * for its rate to mean much.
 */
const MIB_PASSES = 16;

const BUF_4K = new Uint8Array(4096).fill(0x5a);
const BUF_1M = new Uint8Array(1024 * 1024).fill(0xa5);

/** Runs one blk phase on `blk` (see the module comment). */
export function runBlkPhase(blk: BlkDriver, test: BlkTest, o: BlkPhaseOptions): Promise<Phase> {
  const sectors4k = Math.floor(blk.capacitySectors / 8);
  const chunks = Math.max(1, Math.floor(blk.capacitySectors / 2048));
  switch (test) {
    case "blk-4k-randwrite":
      return drive(o.queueDepth, o.maxOps, o.maxPhaseMs, () =>
        blk.write(randomInt(0, sectors4k) * 8, BUF_4K),
      );
    case "blk-4k-randread":
      return drive(o.queueDepth, o.maxOps, o.maxPhaseMs, async () => {
        await blk.read(randomInt(0, sectors4k) * 8, 8);
      });
    case "blk-1m-seqwrite":
      return drive(1, Math.min(o.maxOps, chunks * MIB_PASSES), o.maxPhaseMs, (i) =>
        blk.write((i % chunks) * 2048, BUF_1M),
      );
    case "blk-1m-seqread":
      return drive(1, Math.min(o.maxOps, chunks * MIB_PASSES), o.maxPhaseMs, async (i) => {
        await blk.read((i % chunks) * 2048, 2048);
      });
  }
}

/** The phase's rate in its unit: IOPS for 4 KiB, MB/s (MiB requests per second) for 1 MiB. */
export function phaseRate(p: Phase): number {
  return p.ms > 0 ? (p.ops / p.ms) * 1000 : 0;
}

export function phaseUnit(test: BlkTest): "IOPS" | "MB/s" {
  return test.startsWith("blk-4k") ? "IOPS" : "MB/s";
}

/** Multicalls and memory bytes the counted guests' Session clients sent so far. */
export interface WorkTally {
  multicalls: number;
  memoryBytes: number;
}

/**
 * Counts every multicall `client` sends (its own method, so the guest's code is unchanged), and
 * the ring bytes its VIRQs carry (`virq_ring_bytes`): memory that moved without a read.
 */
export function countWork(client: SessionClient, tally: WorkTally): void {
  client.onVirq((rings) => {
    for (const ring of rings ?? []) tally.memoryBytes += ring.data.length;
  });
  const batch = client.batch.bind(client);
  client.batch = (ops, options) => {
    tally.multicalls++;
    for (const o of ops) {
      if (o.op === "writeMemory") tally.memoryBytes += o.data.length;
      else if (o.op === "readMemory") tally.memoryBytes += o.length;
    }
    return batch(ops, options);
  };
}
