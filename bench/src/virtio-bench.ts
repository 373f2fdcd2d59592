// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-argo benchmark (issue #5, docs/virtio-argo.md "Transport over Argo"): the same
 * virtio-blk device model and driver measured through the Argo transport (a front-end guest and
 * a back-end guest on a real in-process hypervisor, every request a round of AVAIL/USED
 * messages copied by the hypervisor) and through `LoopbackTransport` (the model reading the
 * driver's ring in place), in the same run, as a ratio: 4 KiB random read and write IOPS at a
 * fixed queue depth, and 1 MiB sequential write and read MB/s. Plus virtio-net frames per
 * second from one guest to another through the back end's L2 switch. Every phase is bounded in
 * operations and in time, so the function always returns.
 */
import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startWorld, type TestGuestHandle } from "@hmx/guest-agent/test-utils";
import * as virtio from "@hmx/virtio";

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
}

export interface VirtioBenchRow {
  readonly test:
    "blk-4k-randread" | "blk-4k-randwrite" | "blk-1m-seqwrite" | "blk-1m-seqread" | "net-frames";
  readonly transport: "argo" | "loopback";
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
}

export interface VirtioBenchResult {
  readonly rows: VirtioBenchRow[];
  /** argo / loopback per blk test. */
  readonly ratios: Record<string, number>;
}

type Blk = Awaited<ReturnType<typeof virtio.BlkDriver.create>>;

/** Multicalls and memory bytes the counted guests' Session clients sent so far. */
interface WorkTally {
  multicalls: number;
  memoryBytes: number;
}

/**
 * Counts every multicall `client` sends (its own method, so the guest's code is unchanged), and
 * the ring bytes its VIRQs carry (`virq_ring_bytes`): memory that moved without a read.
 */
function countWork(client: TestGuestHandle["client"], tally: WorkTally): void {
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

interface Phase {
  readonly ops: number;
  readonly ms: number;
}

/** Runs `op` with `depth` in flight until `maxOps` or `maxMs`. */
async function drive(
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

async function blkPhases(
  blk: Blk,
  transport: "argo" | "loopback",
  o: Required<Omit<VirtioBenchOptions, "blkRingLen">>,
  tally?: WorkTally,
): Promise<VirtioBenchRow[]> {
  const rows: VirtioBenchRow[] = [];
  // Each row's work: the tally's growth since the row before, per request.
  let seen: WorkTally = { multicalls: 0, memoryBytes: 0 };
  const work = (ops: number): Pick<VirtioBenchRow, "work"> => {
    if (tally === undefined || ops === 0) return {};
    const w = {
      multicalls: (tally.multicalls - seen.multicalls) / ops,
      memoryBytes: (tally.memoryBytes - seen.memoryBytes) / ops,
    };
    seen = { ...tally };
    return { work: w };
  };
  if (tally !== undefined) seen = { ...tally };
  const sectors4k = Math.floor(blk.capacitySectors / 8);
  const buf4k = new Uint8Array(4096).fill(0x5a);
  const w = await drive(o.queueDepth, o.maxOps, o.maxPhaseMs, () =>
    blk.write(randomInt(0, sectors4k) * 8, buf4k),
  );
  rows.push({
    test: "blk-4k-randwrite",
    transport,
    value: (w.ops / w.ms) * 1000,
    unit: "IOPS",
    ...w,
    ...work(w.ops),
  });
  const r = await drive(o.queueDepth, o.maxOps, o.maxPhaseMs, async () => {
    await blk.read(randomInt(0, sectors4k) * 8, 8);
  });
  rows.push({
    test: "blk-4k-randread",
    transport,
    value: (r.ops / r.ms) * 1000,
    unit: "IOPS",
    ...r,
    ...work(r.ops),
  });
  const mib = new Uint8Array(1024 * 1024).fill(0xa5);
  const chunks = Math.max(1, Math.floor(blk.capacitySectors / 2048));
  const sw = await drive(1, Math.min(o.maxOps, chunks * 4), o.maxPhaseMs, (i) =>
    blk.write((i % chunks) * 2048, mib),
  );
  rows.push({
    test: "blk-1m-seqwrite",
    transport,
    value: sw.ops / (sw.ms / 1000),
    unit: "MB/s",
    ...sw,
    ...work(sw.ops),
  });
  const sr = await drive(1, Math.min(o.maxOps, chunks * 4), o.maxPhaseMs, async (i) => {
    await blk.read((i % chunks) * 2048, 2048);
  });
  rows.push({
    test: "blk-1m-seqread",
    transport,
    value: sr.ops / (sr.ms / 1000),
    unit: "MB/s",
    ...sr,
    ...work(sr.ops),
  });
  return rows;
}

/** Runs every phase and returns the rows (see the module comment). */
export async function runVirtioBench(options: VirtioBenchOptions = {}): Promise<VirtioBenchResult> {
  const o: Required<Omit<VirtioBenchOptions, "blkRingLen">> = {
    maxOps: options.maxOps ?? 20_000,
    maxPhaseMs: options.maxPhaseMs ?? 2000,
    queueDepth: options.queueDepth ?? 16,
    diskBytes: options.diskBytes ?? 64 * 1024 * 1024,
    frameBytes: options.frameBytes ?? 1000,
  };
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
      rows.push(...(await blkPhases(await virtio.BlkDriver.create(transport), "loopback", o)));
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
      const na = await world.createDomain("bench-na", "frontend_t", [
        { type: "net", backendDomid: be.domid },
      ]);
      const nb = await world.createDomain("bench-nb", "frontend_t", [
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
      rows.push(...(await blkPhases(blk, "argo", o, tally)));

      const fa = await world.frontend(await world.connect("bench-na", na.domid, na.credential));
      const fb = await world.frontend(await world.connect("bench-nb", nb.domid, nb.credential));
      const a = fa.net();
      const b = fb.net();
      if (a === undefined || b === undefined)
        throw new Error("virtio-net over Argo did not come up");
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
      rows.push({
        test: "net-frames",
        transport: "argo",
        value: (received / ms) * 1000,
        unit: "frames/s",
        ops: received,
        ms,
      });
    } finally {
      await world.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios: Record<string, number> = {};
  for (const r of rows) {
    if (r.transport !== "argo" || r.test === "net-frames") continue;
    const base = rows.find((x) => x.test === r.test && x.transport === "loopback");
    if (base !== undefined && base.value > 0) ratios[r.test] = r.value / base.value;
  }
  return { rows, ratios };
}
