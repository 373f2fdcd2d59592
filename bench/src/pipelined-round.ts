// SPDX-License-Identifier: Apache-2.0
/**
 * One round of pipelined Session traffic against a fresh in-process hypervisor, the unit of the
 * "with X / without X" benches (fault-bench.ts, state-bench.ts): a hypervisor from
 * `embeddedHypervisorConfig` changed by `configure`, one guest domain, `inFlight` batches of
 * `batchOps` hypercalls kept in flight for `roundMs`; hypercalls per second. Each round starts a
 * new hypervisor so no configuration inherits another's heap or journal.
 *
 * Two workloads: `memory` (256-byte WriteMemory + ReadMemory pairs, every call journaled under
 * a state dir) and `sendv` (64-byte Argo messages into the domain's own ring, the ring emptied
 * by the batch's last call, so every sendv takes the full path: MAC, the fault hook, the copy,
 * the VIRQ).
 */
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import {
  createLogger,
  embeddedHypervisorConfig,
  startHypervisor,
  type HypervisorConfig,
} from "@hmx/hypervisor";
import { randomBytes } from "node:crypto";

export interface PipelinedRoundOptions {
  readonly roundMs: number;
  readonly batchOps: number;
  readonly inFlight: number;
  readonly workload: "memory" | "sendv";
}

/** What a round measured, and what its `after` step returned (state-bench's latency loop). */
export interface PipelinedRoundResult<T> {
  readonly opsPerSec: number;
  /**
   * CPU time of this process (the client and the in-process hypervisor together) per hypercall,
   * in µs: unlike the rate, it does not move when other processes take the cores.
   */
  readonly cpuUsPerOp: number;
  readonly after: T;
}

const PAYLOAD_BYTES = 256;
const MESSAGE_BYTES = 64;
/** Four pages: the 64-byte ring header, then the ring. */
const RING_PAGES = 4;
const RING_LEN = RING_PAGES * PAGE_SIZE - 64;
/** A message's slot in the ring: its 16-byte header and its payload, padded to 16 bytes. */
const SLOT_BYTES = 16 + Math.ceil(MESSAGE_BYTES / 16) * 16;

/** The first guest page the workloads use (state-bench's latency loop writes there too). */
export const ROUND_GPA = FIRST_GUEST_GFN * PAGE_SIZE;

function memoryBatch(batchOps: number): () => HypercallOp[] {
  const data = randomBytes(PAYLOAD_BYTES);
  const ops: HypercallOp[] = [];
  for (let i = 0; i < batchOps / 2; i++) {
    ops.push({ op: "writeMemory", gpa: ROUND_GPA + i * PAYLOAD_BYTES, data });
    ops.push({ op: "readMemory", gpa: ROUND_GPA + i * PAYLOAD_BYTES, length: PAYLOAD_BYTES });
  }
  return () => ops;
}

/**
 * `batchOps - 1` sendvs to the domain's own ring, then the write of the ring's rx_ptr up to
 * where they end. Batches run in the order they are sent (a domain's calls are FIFO), so the
 * sender knows where each batch leaves tx_ptr without reading it.
 */
function sendvBatch(domid: number, batchOps: number): () => HypercallOp[] {
  const sends = batchOps - 1;
  if (sends * SLOT_BYTES >= RING_LEN)
    throw new RangeError(`batchOps ${batchOps}: the ring holds at most ${RING_LEN / SLOT_BYTES}`);
  const payloadGpa = ROUND_GPA + RING_PAGES * PAGE_SIZE;
  const send: HypercallOp = {
    op: "sendv",
    src: { domainId: domid, aport: 2 },
    dst: { domainId: domid, aport: 1 },
    iovs: [{ gpa: payloadGpa, len: MESSAGE_BYTES }],
    messageType: 0,
  };
  let tx = 0;
  return () => {
    tx = (tx + sends * SLOT_BYTES) % RING_LEN;
    const rx = Buffer.alloc(4);
    rx.writeUInt32LE(tx);
    return [
      ...new Array<HypercallOp>(sends).fill(send),
      { op: "writeMemory", gpa: ROUND_GPA, data: rx },
    ];
  };
}

/** A running in-process hypervisor, as `startHypervisor` gives it. */
export type Hypervisor = Awaited<ReturnType<typeof startHypervisor>>;

export async function pipelinedRound<T>(
  configure: (base: HypervisorConfig) => HypervisorConfig,
  o: PipelinedRoundOptions,
  after: (client: SessionClient, hv: Hypervisor) => Promise<T>,
): Promise<PipelinedRoundResult<T>> {
  const hv = await startHypervisor(
    configure(embeddedHypervisorConfig(randomBytes(24).toString("hex"))),
    createLogger("silent"),
  );
  const { domain, credential } = hv.core.domains.create({
    name: "bench",
    label: "bench_t",
    memoryBytes: 8 * 1024 * 1024,
  });
  const client = await SessionClient.connect({ address: hv.listen, credential });
  try {
    let batch = memoryBatch(o.batchOps);
    if (o.workload === "sendv") {
      const gfns = Array.from({ length: RING_PAGES }, (_, i) => FIRST_GUEST_GFN + i);
      const [registered] = await client.batch([
        { op: "registerRing", aport: 1, partnerId: domain.domid, len: RING_LEN, gfns, flags: 0 },
      ]);
      if (registered?.op !== "registerRing" || registered.ret !== 0)
        throw new Error(`the bench ring was refused: ${JSON.stringify(registered)}`);
      batch = sendvBatch(domain.domid, o.batchOps);
    }
    let done = 0;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + o.roundMs;
    const lane = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const results = await client.batch(batch());
        // A refused sendv (a full ring) would measure the wrong path: the round is void.
        const failed = results.find((r) => r.op === "status" || r.ret < 0);
        if (failed !== undefined)
          throw new Error(`a bench hypercall failed: ${JSON.stringify(failed)}`);
        done += results.length;
      }
    };
    await Promise.all(Array.from({ length: o.inFlight }, lane));
    const opsPerSec = (done * 1000) / (performance.now() - started);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuUsPerOp = (cpu.user + cpu.system) / done;
    return { opsPerSec, cpuUsPerOp, after: await after(client, hv) };
  } finally {
    await client.close();
    await hv.stop();
  }
}
