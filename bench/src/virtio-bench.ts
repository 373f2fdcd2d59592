// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-argo benchmark (issue #5, docs/virtio-argo.md "Transport over Argo"): the same
 * virtio-blk device model and driver measured through the Argo transport (a front-end guest and
 * a back-end guest on a real in-process hypervisor, every request a round of AVAIL/USED
 * messages copied by the hypervisor) and through `LoopbackTransport` (the model reading the
 * driver's ring in place), in the same run, as a ratio: 4 KiB random read and write IOPS at a
 * fixed queue depth, and 1 MiB sequential write and read MB/s. Plus virtio-net frames per
 * second from one guest to another through the back end's L2 switch. The Argo world above runs
 * the hypervisor and both guests in this one process and thread; the blk phases run a second
 * time with each in its own process (`virtio-processes.ts`), as a deployment runs them. Every
 * row carries the CPU its parties spent per request. Every phase is bounded in operations and
 * in time, so the function always returns. The whole sequence runs in rounds (default 3): the
 * rows are the median round's, the ratios the median of each round's own ratio, with their
 * spread, because a 2 s phase of a 2-core machine moves by tens of per cent between runs. Each
 * round starts its parties afresh, so every transport runs each phase once unmeasured first
 * (`warmupMs`): a fresh process's first work runs unoptimized code.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startWorld, type World } from "@hmx/guest-agent/test-utils";
import * as virtio from "@hmx/virtio";
import {
  BLK_TESTS,
  countWork,
  drive,
  phaseRate,
  phaseUnit,
  runBlkPhase,
  type BlkPhaseOptions,
  type BlkTest,
  type WorkTally,
} from "./virtio-blk-phases.js";
import { verdictWord } from "./report.js";
import { median } from "./stats.js";
import { runBlkPhasesInProcesses, type ProcessRunOptions } from "./virtio-processes.js";

export interface VirtioBenchOptions {
  /** Most operations per phase (bounded count). Default 20,000. */
  readonly maxOps?: number;
  /** Time cap per phase in ms (bounded time). Default 2,000. */
  readonly maxPhaseMs?: number;
  /** Requests kept in flight for the 4 KiB phases. Default 16. */
  readonly queueDepth?: number;
  /** Disk size in bytes. Default 64 MiB. */
  readonly diskBytes?: number;
  /** Ethernet frame size for the net phase. Default 1000. */
  readonly frameBytes?: number;
  /**
   * The Argo blk device's ring length (both ends); default: the toolstack's blk default
   * (`VIRTIO_ARGO_BLK_RING_LEN`, 1,064,896 B), which carries a 1 MiB request in one message. A
   * smaller ring cuts it into fragments that each wait for the receiver to drain the ring.
   */
  readonly blkRingLen?: number;
  /**
   * Also run the blk phases with the hypervisor, the back end and the front end in three
   * processes (`virtio-processes.ts`), as a deployment runs them. Default true.
   */
  readonly processes?: boolean;
  /**
   * Only these blk phases (`--virtio-phases`, for investigating one of them), and then no net
   * phase. Default: every blk phase and the net phase.
   */
  readonly blkTests?: readonly BlkTest[];
  /**
   * Rounds of every phase (each round sets every transport up afresh and runs the phases in the
   * same order); a row is the round with the median rate, a ratio the median of the rounds'
   * ratios. Default 3.
   */
  readonly rounds?: number;
  /**
   * Milliseconds of each blk phase run, unmeasured, before the measured ones of a transport
   * (bounded by `maxOps` too): every round starts its parties afresh, and a fresh process runs
   * its code unoptimized at first. Default 500; 0 for none.
   */
  readonly warmupMs?: number;
}

export interface VirtioBenchRow {
  readonly test:
    "blk-4k-randread" | "blk-4k-randwrite" | "blk-1m-seqwrite" | "blk-1m-seqread" | "net-frames";
  /**
   * "loopback": the model reads the driver's ring in place (one process). "argo": a real
   * hypervisor and both guests in this one process and thread, so every party's CPU adds up on
   * one core. "argo-processes": the hypervisor, the back end and the front end each in its own
   * process, as `hmx up` and the fleet run them.
   */
  readonly transport: "argo" | "argo-processes" | "loopback";
  /** IOPS, MB/s or frames/s (see `unit`). */
  readonly value: number;
  readonly unit: "IOPS" | "MB/s" | "frames/s";
  readonly ops: number;
  readonly ms: number;
  /**
   * Over Argo: the work per request of both guests together, counted at their Session clients
   * (noise-free, unlike the rates): multicalls, and bytes moved by WriteMemory / ReadMemory.
   */
  readonly work?: { readonly multicalls: number; readonly memoryBytes: number };
  /**
   * CPU microseconds per request of every party together: this process's for "loopback" and
   * "argo", the sum of the three processes' for "argo-processes" (read from /proc; absent
   * where it cannot be read).
   */
  readonly cpuUsPerRequest?: number;
  /** "argo-processes": CPU microseconds per request of each process. */
  readonly cpuByParty?: Readonly<Record<"hypervisor" | "backend" | "frontend", number>>;
  /** The rate of every round, in round order (the row itself is the median round's). */
  readonly roundValues?: readonly number[];
}

/** A ratio over the rounds: their median, and the lowest and highest (the noise). */
export interface RoundRatio {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Each round's ratio, in round order. */
  readonly rounds: readonly number[];
}

export interface VirtioBenchResult {
  readonly rows: VirtioBenchRow[];
  /** Rounds run. */
  readonly rounds: number;
  /** argo / loopback per blk test (the rate): the median of the rounds' ratios. */
  readonly ratios: Record<string, number>;
  /** argo-processes / loopback per blk test (the rate), when those rows ran. */
  readonly processRatios: Record<string, number>;
  /** The same ratios with their spread over the rounds. */
  readonly ratioRounds: Record<string, RoundRatio>;
  readonly processRatioRounds: Record<string, RoundRatio>;
}

type Blk = Awaited<ReturnType<typeof virtio.BlkDriver.create>>;

/** CPU microseconds this process used so far (user + system). */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** The blk phases in this process: loopback, or Argo with every party on this thread. */
async function blkPhases(
  blk: Blk,
  transport: "argo" | "loopback",
  tests: readonly BlkTest[],
  o: BlkPhaseOptions & { readonly warmupMs: number },
  tally?: WorkTally,
): Promise<VirtioBenchRow[]> {
  const rows: VirtioBenchRow[] = [];
  if (o.warmupMs > 0)
    for (const test of tests) await runBlkPhase(blk, test, { ...o, maxPhaseMs: o.warmupMs });
  for (const test of tests) {
    const before = tally === undefined ? undefined : { ...tally };
    const cpuBefore = cpuUs();
    const p = await runBlkPhase(blk, test, o);
    const cpu = cpuUs() - cpuBefore;
    rows.push({
      test,
      transport,
      value: phaseRate(p),
      unit: phaseUnit(test),
      ...p,
      ...(p.ops === 0 ? {} : { cpuUsPerRequest: cpu / p.ops }),
      ...(tally === undefined || before === undefined || p.ops === 0
        ? {}
        : {
            work: {
              multicalls: (tally.multicalls - before.multicalls) / p.ops,
              memoryBytes: (tally.memoryBytes - before.memoryBytes) / p.ops,
            },
          }),
    });
  }
  return rows;
}

/** The blk phases with the hypervisor, the back end and the front end in three processes. */
async function processRows(o: ProcessRunOptions): Promise<VirtioBenchRow[]> {
  return (await runBlkPhasesInProcesses(o)).map(({ test, phase, work, cpuSeconds }) => {
    const perRequest = (s: number | null): number | null =>
      s === null || phase.ops === 0 ? null : (s * 1e6) / phase.ops;
    const hypervisor = perRequest(cpuSeconds.hypervisor);
    const backend = perRequest(cpuSeconds.backend);
    const frontend = perRequest(cpuSeconds.frontend);
    return {
      test,
      transport: "argo-processes" as const,
      value: phaseRate(phase),
      unit: phaseUnit(test),
      ...phase,
      ...(phase.ops === 0
        ? {}
        : {
            work: {
              multicalls: work.multicalls / phase.ops,
              memoryBytes: work.memoryBytes / phase.ops,
            },
          }),
      ...(hypervisor === null || backend === null || frontend === null
        ? {}
        : {
            cpuUsPerRequest: hypervisor + backend + frontend,
            cpuByParty: { hypervisor, backend, frontend },
          }),
    };
  });
}

type Domain = Awaited<ReturnType<World["createDomain"]>>;

/** virtio-net frames per second from one guest to another through the back end's switch. */
async function netRow(
  world: World,
  na: Domain,
  nb: Domain,
  o: { readonly frameBytes: number; readonly maxOps: number; readonly maxPhaseMs: number },
): Promise<VirtioBenchRow> {
  const fa = await world.frontend(await world.connect("bench-na", na.domid, na.credential));
  const fb = await world.frontend(await world.connect("bench-nb", nb.domid, nb.credential));
  const a = fa.net();
  const b = fb.net();
  if (a === undefined || b === undefined) throw new Error("virtio-net over Argo did not come up");
  let received = 0;
  b.onFrame(() => {
    received++;
  });
  // A unicast frame a → b: the switch floods the first, learns b from b's first reply-less
  // frame, so b announces itself once first.
  const frame = (src: Uint8Array, dst: Uint8Array): Uint8Array => {
    const f = new Uint8Array(o.frameBytes);
    f.set(dst, 0);
    f.set(src, 6);
    f[12] = 0x88;
    f[13] = 0xb5; // IEEE local experimental EtherType
    return f;
  };
  await b.send(frame(b.mac, a.mac));
  const toB = frame(a.mac, b.mac);
  const sent = await drive(32, o.maxOps, o.maxPhaseMs, () => a.send(toB));
  const deadline = performance.now() + 1000;
  while (received < sent.ops && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  const ms = sent.ms;
  return {
    test: "net-frames",
    transport: "argo",
    value: (received / ms) * 1000,
    unit: "frames/s",
    ops: received,
    ms,
  };
}

type PhaseOptions = Required<
  Omit<VirtioBenchOptions, "blkRingLen" | "processes" | "blkTests" | "rounds">
>;

/**
 * Runs every phase `rounds` times and returns the median round's row of each (see the module
 * comment and `summarizeRounds`).
 */
export async function runVirtioBench(options: VirtioBenchOptions = {}): Promise<VirtioBenchResult> {
  const rounds = options.rounds ?? 3;
  if (!Number.isSafeInteger(rounds) || rounds < 1) {
    throw new RangeError(`virtio bench: rounds ${rounds} is not a whole number >= 1`);
  }
  const o: PhaseOptions = {
    maxOps: options.maxOps ?? 20_000,
    maxPhaseMs: options.maxPhaseMs ?? 2000,
    queueDepth: options.queueDepth ?? 16,
    diskBytes: options.diskBytes ?? 64 * 1024 * 1024,
    frameBytes: options.frameBytes ?? 1000,
    warmupMs: options.warmupMs ?? 500,
  };
  if (!Number.isSafeInteger(o.warmupMs) || o.warmupMs < 0) {
    throw new RangeError(`virtio bench: warmupMs ${o.warmupMs} is not a whole number >= 0`);
  }
  const all: VirtioBenchRow[][] = [];
  for (let round = 0; round < rounds; round++) all.push(await runVirtioRound(o, options));
  return summarizeRounds(all);
}

/** One round: every phase once through the loopback, Argo in one process, and in three. */
async function runVirtioRound(
  o: PhaseOptions,
  options: VirtioBenchOptions,
): Promise<VirtioBenchRow[]> {
  const tests = options.blkTests ?? BLK_TESTS;
  const withNet = options.blkTests === undefined;
  const rows: VirtioBenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), "hmx-virtio-bench-"));
  try {
    // Loopback: the same model and driver, the model reading the ring in place.
    const backend = await virtio.blk.FileBlockBackend.open(join(dir, "loopback.img"), {
      capacitySectors: o.diskBytes / 512,
    });
    try {
      const ram = new virtio.InMemoryGuestRam(16 * 1024 * 1024);
      const transport = new virtio.LoopbackTransport({
        ram,
        dma: new virtio.DmaAllocator(4096, ram.size - 4096),
        device: new virtio.blk.BlkDevice({ backend }),
      });
      rows.push(
        ...(await blkPhases(await virtio.BlkDriver.create(transport), "loopback", tests, o)),
      );
    } finally {
      await backend.close();
    }

    // Argo: a back-end guest and front-end guests on a real hypervisor.
    const world = await startWorld();
    try {
      const be = await world.createDomain("bench-be", "backend_t", [], 64 * 1024 * 1024);
      const fe = await world.createDomain(
        "bench-blk",
        "frontend_t",
        [
          {
            type: "blk",
            backendDomid: be.domid,
            capacityBytes: o.diskBytes,
            ...(options.blkRingLen === undefined ? {} : { ringLen: options.blkRingLen }),
          },
        ],
        64 * 1024 * 1024,
      );
      // Net domains only with the net phase: the back end hosts what its table lists at start.
      const na = !withNet
        ? null
        : await world.createDomain("bench-na", "frontend_t", [
            { type: "net", backendDomid: be.domid },
          ]);
      const nb = !withNet
        ? null
        : await world.createDomain("bench-nb", "frontend_t", [
            { type: "net", backendDomid: be.domid },
          ]);
      const tally: WorkTally = { multicalls: 0, memoryBytes: 0 };
      const beGuest = await world.connect("bench-be", be.domid, be.credential);
      const feGuest = await world.connect("bench-blk", fe.domid, fe.credential);
      countWork(beGuest.client, tally);
      countWork(feGuest.client, tally);
      await world.backend(beGuest);
      const devices = await world.frontend(feGuest);
      const blk = devices.blk();
      if (blk === undefined) throw new Error("virtio-blk over Argo did not come up");
      rows.push(...(await blkPhases(blk, "argo", tests, o, tally)));
      if (na !== null && nb !== null) rows.push(await netRow(world, na, nb, o));
    } finally {
      await world.stop();
    }
    if (options.processes !== false)
      rows.push(
        ...(await processRows({
          ...o,
          tests,
          ...(options.blkRingLen === undefined ? {} : { blkRingLen: options.blkRingLen }),
        })),
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/**
 * The rounds as one result: each (test, transport) row is the round with the median rate (the
 * upper one of an even count), with every round's rate in `roundValues`; each ratio is the
 * median of the rounds' own ratios (a round's Argo rate over the same round's loopback rate),
 * with their lowest and highest.
 */
export function summarizeRounds(all: readonly (readonly VirtioBenchRow[])[]): VirtioBenchResult {
  const first = all[0] ?? [];
  const rowsOf = (r: VirtioBenchRow): VirtioBenchRow[] =>
    all.flatMap((round) => round.filter((x) => x.test === r.test && x.transport === r.transport));
  const rows = first.map((r) => {
    const each = rowsOf(r);
    const mid = [...each].sort((a, b) => a.value - b.value)[Math.floor(each.length / 2)] ?? r;
    return { ...mid, roundValues: each.map((x) => x.value) };
  });
  const ratiosOf = (transport: VirtioBenchRow["transport"]): Record<string, RoundRatio> => {
    const out: Record<string, RoundRatio> = {};
    for (const r of first) {
      if (r.transport !== transport || r.test === "net-frames") continue;
      const ratios: number[] = [];
      for (const round of all) {
        const row = round.find((x) => x.test === r.test && x.transport === transport);
        const base = round.find((x) => x.test === r.test && x.transport === "loopback");
        if (row !== undefined && base !== undefined && base.value > 0)
          ratios.push(row.value / base.value);
      }
      if (ratios.length > 0)
        out[r.test] = {
          median: median(ratios),
          min: Math.min(...ratios),
          max: Math.max(...ratios),
          rounds: ratios,
        };
    }
    return out;
  };
  const medians = (spread: Record<string, RoundRatio>): Record<string, number> =>
    Object.fromEntries(Object.entries(spread).map(([test, r]) => [test, r.median]));
  const ratioRounds = ratiosOf("argo");
  const processRatioRounds = ratiosOf("argo-processes");
  return {
    rows,
    rounds: all.length,
    ratios: medians(ratioRounds),
    processRatios: medians(processRatioRounds),
    ratioRounds,
    processRatioRounds,
  };
}

/** Issue 15's targets: argo ÷ loopback at least this, per blk test. */
export const VIRTIO_TARGETS: Readonly<Record<BlkTest, number>> = {
  "blk-4k-randwrite": 0.5,
  "blk-4k-randread": 0.5,
  "blk-1m-seqwrite": 0.3,
  "blk-1m-seqread": 0.3,
};

/** One line per blk test that ran: its median ratios against its target, each judged. */
export function virtioVerdicts(vio: VirtioBenchResult, judged = true): string[] {
  // A --quick run's phases are too short to measure: its ratios are shown, not judged.
  const show = (r: number | undefined, target: number): string =>
    r === undefined ? "–" : `${r.toFixed(3)} ${verdictWord(r >= target, judged)}`;
  return BLK_TESTS.filter((test) => vio.ratios[test] !== undefined).map((test) => {
    const target = VIRTIO_TARGETS[test];
    return (
      `${test} argo ÷ loopback (target >= ${target}): one process ${show(vio.ratios[test], target)}, ` +
      `three processes ${show(vio.processRatios[test], target)}`
    );
  });
}
