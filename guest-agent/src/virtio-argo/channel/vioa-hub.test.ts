// SPDX-License-Identifier: Apache-2.0
/**
 * `VioaHub`'s deferred rx publishing (rx-ring.ts "Deferred publish") against the real
 * hypervisor core in process: two guests, a channel each, every batch recorded. Rules: a drained
 * ring's rx store rides in front of the next multicall the guest sends; with none coming, the
 * backstop publishes it; a drain that saw more than half the ring in use publishes at once; a
 * sender parked on a full ring resumes, and every message arrives once, in order. And the hub
 * is no second libargo: a guest's sockets and channels share one VIRQ listener and one drain
 * pass.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { RING_RX_PTR_OFFSET, RING_TX_PTR_OFFSET, ringLenForPages } from "@hmx/proto/abi";
import type {
  BatchOptions,
  HypercallOp,
  HypercallOutcome,
} from "../../hypercall/hypercall-client.js";
import { ArgoEndpoint } from "../../libargo/argo-endpoint.js";
import { InProcessClient, InProcessHypervisor } from "../../test-utils/in-process-client.js";
import type { VioaChannel } from "./vioa-channel.js";
import { VioaHub } from "./vioa-hub.js";
import { until } from "@hmx/virtio/test-utils";

const MEMORY = 16 * 1024 * 1024;
const RING_LEN = ringLenForPages(4); // 16 KiB less the header: small enough to fill

class RecordingClient extends InProcessClient {
  readonly batches: HypercallOp[][] = [];
  /** VIRQ listeners subscribed now. */
  virqListeners = 0;

  override onVirq(listener: () => void): () => void {
    this.virqListeners++;
    const off = super.onVirq(listener);
    return () => {
      this.virqListeners--;
      off();
    };
  }

  override batch(ops: readonly HypercallOp[], options?: BatchOptions): Promise<HypercallOutcome[]> {
    this.batches.push([...ops]);
    return super.batch(ops, options);
  }
}

interface Pair {
  readonly a: RecordingClient;
  readonly b: RecordingClient;
  readonly endpointA: ArgoEndpoint;
  readonly endpointB: ArgoEndpoint;
  readonly hubA: VioaHub;
  readonly hubB: VioaHub;
  readonly chA: VioaChannel;
  readonly chB: VioaChannel;
  /** Messages B received, in order. */
  readonly atB: Buffer[];
  /** What B does with each message (default: nothing). */
  onB: (m: Buffer) => void;
  close(): Promise<void>;
}

async function pair(ringLen = RING_LEN, stagingBytes = 16 * 1024): Promise<Pair> {
  const hv = new InProcessHypervisor();
  const mk = (name: string): RecordingClient =>
    new RecordingClient(
      hv,
      hv.core.domains.create({ name, label: "system_u:system_r:domU_t", memoryBytes: MEMORY })
        .domain.domid,
    );
  const a = mk("a");
  const b = mk("b");
  const endpointA = await ArgoEndpoint.create(a, { memoryBytes: MEMORY });
  const endpointB = await ArgoEndpoint.create(b, { memoryBytes: MEMORY });
  const hubA = new VioaHub(endpointA);
  const hubB = new VioaHub(endpointB);
  const atB: Buffer[] = [];
  const p: Partial<Pair> & { onB: (m: Buffer) => void } = { onB: () => undefined };
  const chB = await hubB.open({
    aport: 0x6001,
    peerDomid: a.domid,
    peerPort: 0x6000,
    ringLen,
    stagingBytes,
    onMessage: (m) => {
      atB.push(Buffer.from(m));
      p.onB(m);
    },
  });
  const chA = await hubA.open({
    aport: 0x6000,
    peerDomid: b.domid,
    peerPort: 0x6001,
    ringLen,
    stagingBytes,
    onMessage: () => undefined,
  });
  return Object.assign(p, {
    a,
    b,
    endpointA,
    endpointB,
    hubA,
    hubB,
    chA,
    chB,
    atB,
    async close() {
      await hubA.close();
      await hubB.close();
      await endpointA.close();
      await endpointB.close();
    },
  });
}

/** The rx_ptr in the ring header as the hypervisor sees it. */
async function publishedRx(client: InProcessClient, ch: VioaChannel): Promise<number> {
  const { data } = await client.readMemory(ch.ring.gpa + RING_RX_PTR_OFFSET, 4);
  return data.readUInt32LE(0);
}

/** Waits (bounded: at most 2,000 turns of 1 ms) until `cond` holds. */
const isRxStore = (ch: VioaChannel) => (op: HypercallOp | undefined) =>
  op?.op === "writeMemory" && op.gpa === ch.ring.gpa + RING_RX_PTR_OFFSET;

describe("virtio-argo hub: deferred rx publish", () => {
  let open: Pair | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  it("a drained ring's rx store and notify ride in front of the guest's next send: a message and its answer cost the receiver a pass and a send", async () => {
    const p = (open = await pair());
    p.onB = () => {
      void p.chB.send([{ bytes: Buffer.from("answer") }]);
    };
    p.b.batches.length = 0;
    await p.chA.send([{ bytes: Buffer.from("question") }]);
    await until("the answer", () => p.b.batches.some((b) => b.some((op) => op.op === "sendv")), {
      intervalMs: 1,
    });
    const send = p.b.batches.find((b) => b.some((op) => op.op === "sendv")) ?? [];
    assert.ok(isRxStore(p.chB)(send[0]), "the rx store leads the send multicall");
    assert.equal(send[1]?.op, "notify");
    assert.equal(p.b.batches.length, 2, "one drain pass, one send: no publish of its own");
    assert.equal(p.hubB.stats.publishesCarried, 1);
    await until("rx stored", async () => (await publishedRx(p.b, p.chB)) === p.chB.ring.rxPtr, {
      intervalMs: 1,
    });
  });

  it("with no multicall to ride on, the backstop publishes the consumed rx", async () => {
    const p = (open = await pair());
    await p.chA.send([{ bytes: Buffer.from("no answer") }]);
    await until("delivery", () => p.atB.length === 1, { intervalMs: 1 });
    await until("the backstop", () => p.hubB.stats.publishBackstops === 1, { intervalMs: 1 });
    await until("rx stored", async () => (await publishedRx(p.b, p.chB)) === p.chB.ring.rxPtr, {
      intervalMs: 1,
    });
    assert.ok(p.chB.ring.rxPtr > 0);
    const alone = p.b.batches.filter(
      (b) => isRxStore(p.chB)(b[0]) && !b.some((op) => op.op === "registerRing"),
    );
    assert.deepEqual(
      alone.map((b) => b.map((op) => op.op)),
      [["writeMemory", "notify"]],
    );
  });

  it("a drain that saw more than half the ring in use publishes at once", async () => {
    const p = (open = await pair());
    await p.chA.send([{ bytes: new Uint8Array(Math.floor(RING_LEN * 0.6)).fill(1) }]);
    await until("delivery", () => p.atB.length === 1, { intervalMs: 1 });
    await until("rx stored", async () => (await publishedRx(p.b, p.chB)) === p.chB.ring.rxPtr, {
      intervalMs: 1,
    });
    assert.equal(p.hubB.stats.publishesCarried + p.hubB.stats.publishBackstops, 0);
  });

  it("a sender parked on a full ring resumes once the receiver publishes; every message arrives once, in order", async () => {
    const p = (open = await pair());
    // 40 messages of 1 KiB do not fit a 16 KiB ring at once: the sender parks on -EAGAIN.
    const sends = Array.from({ length: 40 }, (_, i) =>
      p.chA.send([{ bytes: new Uint8Array(1024).fill(i) }]),
    );
    await Promise.all(sends);
    await until("every message", () => p.atB.length === 40, { intervalMs: 1 });
    assert.ok(p.chA.stats.eagains > 0, "the ring did fill up");
    assert.deepEqual(
      p.atB.map((m) => m[0]),
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it("a message a full ring refused (-EAGAIN) is sent again from where it was staged, not staged again", async () => {
    const p = (open = await pair());
    const setup = p.a.batches.length; // ring registration writes its header
    const sends = Array.from({ length: 40 }, (_, i) =>
      p.chA.send([{ bytes: new Uint8Array(1024).fill(i) }]),
    );
    await Promise.all(sends);
    await until("every message", () => p.atB.length === 40, { intervalMs: 1 });
    assert.ok(p.chA.stats.eagains > 0, "the ring did fill up");
    // Staging writes are the only WriteMemory calls above 4 bytes (rx stores are 4).
    const staged = p.a.batches
      .slice(setup)
      .flat()
      .reduce(
        (n, op) => n + (op.op === "writeMemory" && op.data.length > 4 ? op.data.length : 0),
        0,
      );
    assert.equal(staged, 40 * 1024, "each message's bytes staged once");
    assert.deepEqual(
      p.atB.map((m) => [m.length, m[0], m[1023]]),
      Array.from({ length: 40 }, (_, i) => [1024, i, i]),
    );
  });
});

describe("virtio-argo channel: staging", () => {
  let open: Pair | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  it("a large part is written from the sender's own buffer, small parts gathered around it", async () => {
    const p = (open = await pair(ringLenForPages(16), 64 * 1024));
    const big = new Uint8Array(16 * 1024 - 64).map((_, i) => i & 0xff);
    const bigger = new Uint8Array(16 * 1024).fill(7);
    p.a.batches.length = 0;
    await p.chA.send([{ bytes: Uint8Array.of(1, 2) }, { bytes: big }, { bytes: Uint8Array.of(3) }]);
    await p.chA.send([{ bytes: Uint8Array.of(4) }, { bytes: bigger }, { bytes: Uint8Array.of(5) }]);
    await until("both messages", () => p.atB.length === 2, { intervalMs: 1 });
    const staging = p.a.batches
      .flat()
      .filter((op) => op.op === "writeMemory" && !isRxStore(p.chA)(op))
      .map((op) => (op.op === "writeMemory" ? op.data : new Uint8Array(0)));
    // Below STAGE_IN_PLACE (16 KiB) a part is gathered; at it, it is the caller's buffer.
    assert.deepEqual(
      staging.map((d) => d.length),
      [2 + big.length + 1, 1, bigger.length, 1],
    );
    assert.equal(staging[2], bigger);
    assert.deepEqual(
      p.atB.map((m) => m.length),
      [3 + big.length, 2 + bigger.length],
    );
    assert.deepEqual([...(p.atB[1] ?? [])].slice(0, 3), [4, 7, 7]);
    assert.equal(p.atB[1]?.at(-1), 5);
    assert.deepEqual([...(p.atB[0] ?? [])].slice(0, 4), [1, 2, 0, 1]);
  });
});

describe("virtio-argo hub on the guest's endpoint", () => {
  let open: Pair | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  it("a guest has one VIRQ listener, and one drain multicall reads its sockets' and its channels' rings", async () => {
    const p = (open = await pair());
    assert.equal(p.b.virqListeners, 1, "the endpoint's listener only, channels open");
    const socketB = await p.endpointB.bind({ aport: 0x7001, partner: p.a.domid });
    const socketA = await p.endpointA.bind({ aport: 0x7000, partner: p.b.domid });
    assert.equal(p.b.virqListeners, 1, "sockets add none either");
    const isTxRead = (gpa: number) => (op: HypercallOp) =>
      op.op === "readMemory" && op.gpa === gpa + RING_TX_PTR_OFFSET;
    p.b.batches.length = 0;
    await Promise.all([
      p.chA.send([{ bytes: Buffer.from("to the channel") }]),
      socketA.sendTo(socketB.address, Buffer.from("to the socket")),
    ]);
    const got = await socketB.receive();
    assert.equal(got?.data.toString(), "to the socket");
    await until("the channel's message", () => p.atB.length === 1, { intervalMs: 1 });
    assert.ok(
      p.b.batches.some(
        (b) => b.some(isTxRead(socketB.ring.gpa)) && b.some(isTxRead(p.chB.ring.gpa)),
      ),
      "a drain pass covers both rings",
    );
    await p.endpointB.close();
    assert.equal(p.b.virqListeners, 0);
    assert.ok(p.chB.closed, "closing the endpoint closes the channels attached to it");
  });
});
