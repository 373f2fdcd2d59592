// SPDX-License-Identifier: Apache-2.0
/**
 * How many multicalls the virtio-argo data path costs, against the real hypervisor core in
 * process (no gRPC): a front-end blk driver over `ArgoTransport` and a `HostedDevice` back end,
 * each guest's client recording every batch it sends. The rules checked: the driver's dirty
 * memory rides in front of the kick's sendv (one multicall per kick, no separate flush); a failed
 * write of it keeps the bytes dirty, sends nothing and fails the device with EIO; a completed
 * read's bytes are not written back by the next kick; the back end sends the completions of one
 * event-loop turn in one multicall.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { VIRTIO_ARGO_DEFAULT_RING_LEN } from "@hmx/proto/abi";
import type { BatchOptions, HypercallOp, HypercallOutcome } from "../hypercall/hypercall-client.js";
import { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import type { PageRun } from "../libargo/page-allocator.js";
import { InProcessClient, InProcessHypervisor } from "../test-utils/in-process-client.js";
import { VirtioDeviceId, BlkDriver, DmaAllocator } from "@hmx/virtio";
import { BlkDevice, MemoryBlockBackend } from "@hmx/virtio/blk";
import { HostedDevice } from "./backend/hosted-device.js";
import { ShadowGuestRam } from "./frontend/shadow-guest-ram.js";
import { ArgoTransport } from "./frontend/argo-transport.js";
import { TransportErrno } from "./wire/transport-error.js";
import { VioaHub } from "./channel/vioa-hub.js";
import { until } from "@hmx/virtio/test-utils";

const MEMORY = 16 * 1024 * 1024;
const BE_PORT = 0x5000;
const FE_PORT = 0x5001;

/** Records every batch; can make WriteMemory into `[failLo, failHi)` fail (-EFAULT). */
class RecordingClient extends InProcessClient {
  readonly batches: HypercallOp[][] = [];
  failLo = 0;
  failHi = 0;

  override batch(ops: readonly HypercallOp[], options?: BatchOptions): Promise<HypercallOutcome[]> {
    this.batches.push([...ops]);
    // A gpa past the end of guest memory is what makes the hypervisor answer -EFAULT.
    const sent = ops.map((op) =>
      op.op === "writeMemory" && op.gpa >= this.failLo && op.gpa < this.failHi
        ? { ...op, gpa: MEMORY }
        : op,
    );
    return super.batch(sent, options);
  }
}

interface Rig {
  readonly fe: RecordingClient;
  readonly be: RecordingClient;
  readonly ram: ShadowGuestRam;
  readonly dma: PageRun;
  readonly backend: MemoryBlockBackend;
  readonly hosted: HostedDevice;
  readonly transport: ArgoTransport;
  readonly driver: BlkDriver;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const hv = new InProcessHypervisor();
  const beDomain = hv.core.domains.create({
    name: "be",
    label: "system_u:system_r:domU_t",
    memoryBytes: MEMORY,
  });
  const feDomain = hv.core.domains.create({
    name: "fe",
    label: "system_u:system_r:domU_t",
    memoryBytes: MEMORY,
  });
  const be = new RecordingClient(hv, beDomain.domain.domid);
  const fe = new RecordingClient(hv, feDomain.domain.domid);
  const beEndpoint = await ArgoEndpoint.create(be, { memoryBytes: MEMORY });
  const beHub = new VioaHub(beEndpoint);
  const backend = new MemoryBlockBackend(1024 * 1024);
  const hosted = new HostedDevice({
    hub: beHub,
    binding: {
      devIndex: 0,
      frontendDomid: fe.domid,
      bePort: BE_PORT,
      fePort: FE_PORT,
      ringLen: VIRTIO_ARGO_DEFAULT_RING_LEN,
    },
    device: new BlkDevice({ backend }),
  });
  await hosted.start();
  const feEndpoint = await ArgoEndpoint.create(fe, { memoryBytes: MEMORY });
  const feAllocator = feEndpoint.allocator;
  const feHub = new VioaHub(feEndpoint);
  const ram = new ShadowGuestRam(fe, MEMORY);
  const dma = feAllocator.allocate(256);
  ram.adoptZeroed(dma.gpa, dma.bytes);
  const transport = await ArgoTransport.probe({
    hub: feHub,
    ram,
    dma: new DmaAllocator(dma.gpa, dma.bytes),
    device: {
      devIndex: 0,
      deviceId: VirtioDeviceId.block,
      backendDomid: be.domid,
      bePort: BE_PORT,
      fePort: FE_PORT,
      ringLen: VIRTIO_ARGO_DEFAULT_RING_LEN,
      name: "vda",
    },
  });
  const driver = await BlkDriver.create(transport);
  return {
    fe,
    be,
    ram,
    dma,
    backend,
    hosted,
    transport,
    driver,
    async close() {
      await transport.close();
      await hosted.stop();
      await feHub.close();
      await beHub.close();
      await feEndpoint.close();
      await beEndpoint.close();
    },
  };
}

const sends = (batches: readonly HypercallOp[][]): HypercallOp[][] =>
  batches.filter((b) => b.some((op) => op.op === "sendv"));

/** Waits (bounded: at most 2,000 turns of 1 ms) until `cond` holds. */
describe("virtio-argo data path batching", () => {
  let open: Rig | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  it("a kick with dirty driver memory costs the front end exactly one multicall: dirty writes, then the sendv that reads them", async () => {
    const r = (open = await rig());
    const data = new Uint8Array(4096).map((_, i) => (i * 7 + 3) & 0xff);
    r.fe.batches.length = 0;
    await r.driver.write(8, data);
    const feSends = sends(r.fe.batches);
    assert.equal(feSends.length, 1, "one multicall carries the kick");
    const kick = feSends[0] ?? [];
    const firstSend = kick.findIndex((op) => op.op === "sendv");
    const driverWrites = kick
      .slice(0, firstSend)
      .filter(
        (op) => op.op === "writeMemory" && op.gpa >= r.dma.gpa && op.gpa < r.dma.gpa + r.dma.bytes,
      );
    assert.ok(driverWrites.length > 0, "the dirty driver memory is written ahead of the sendv");
    // No multicall of only driver-memory writes: the old flush round trip is gone.
    const flushOnly = r.fe.batches.filter(
      (b) =>
        b.length > 0 &&
        b.every(
          (op) =>
            op.op === "writeMemory" && op.gpa >= r.dma.gpa && op.gpa < r.dma.gpa + r.dma.bytes,
        ),
    );
    assert.equal(flushOnly.length, 0);
    // The sendv read the bytes the prelude wrote: the disk holds the driver's data.
    assert.deepEqual(r.backend.snapshot().subarray(8 * 512, 8 * 512 + 4096), data);
  });

  it("a failed prelude write leaves the spans dirty, sends nothing and fails the device with EIO", async () => {
    const r = (open = await rig());
    const chainsBefore = r.hosted.stats.availChains;
    r.fe.failLo = r.dma.gpa;
    r.fe.failHi = r.dma.gpa + r.dma.bytes;
    r.fe.batches.length = 0;
    const write = r.driver.write(0, new Uint8Array(512).fill(0xee)).catch((e: unknown) => e);
    await until("the device to fail", () => r.transport.failure !== undefined, { intervalMs: 1 });
    assert.equal(r.transport.failure?.errno, TransportErrno.EIO);
    // Spans are clean only while a multicall carries them (the driver's reset after the failure
    // sends one more, which fails the same way); once settled they are dirty again.
    await until("the data to be dirty again", () => r.ram.dirtyBytes >= 512, { intervalMs: 1 });
    // The multicall stopped at the failed write: no sendv of it ran, the back end got nothing.
    assert.equal(r.hosted.stats.availChains, chainsBefore);
    assert.deepEqual(r.backend.snapshot().subarray(0, 512), new Uint8Array(512));
    void write;
  });

  it("a completed read's data is not written back to the hypervisor by the next kick", async () => {
    const r = (open = await rig());
    const data = new Uint8Array(64 * 1024).map((_, i) => (i * 13 + 1) & 0xff);
    await r.driver.write(0, data);
    assert.deepEqual(await r.driver.read(0, 128), data, "the read's bytes reach the driver");
    r.fe.batches.length = 0;
    await r.driver.write(256, new Uint8Array(512).fill(7));
    let driverBytes = 0;
    for (const op of r.fe.batches.flat()) {
      if (op.op === "writeMemory" && op.gpa >= r.dma.gpa && op.gpa < r.dma.gpa + r.dma.bytes)
        driverBytes += op.data.length;
    }
    // The kick writes its own request (header, data, ring fields), not the 64 KiB the device
    // wrote into the shadow before it (they were written back in full before the fix).
    assert.ok(driverBytes < 16 * 1024, `${driverBytes} driver bytes written by the next kick`);
  });

  it("the back end sends the completions of one event-loop turn in one multicall", async () => {
    const r = (open = await rig());
    r.be.batches.length = 0;
    const usedBefore = r.hosted.stats.usedMessages;
    // Eight reads kicked together reach the back end as one EVENT_AVAIL; the memory backend
    // completes them all in the same turn.
    await Promise.all(Array.from({ length: 8 }, (_, i) => r.driver.read(i * 8, 8)));
    assert.equal(sends(r.be.batches).length, 1, "one multicall for the turn's completions");
    assert.equal(r.hosted.stats.usedMessages - usedBefore, 1, "packed into one EVENT_USED");
    assert.equal(r.hosted.stats.usedChains, r.hosted.stats.availChains);
  });
});
