// SPDX-License-Identifier: Apache-2.0
/**
 * `RxRing.acceptPush` (rx-ring.ts "Pushed bytes") against the real hypervisor core in process:
 * the bytes VIRQs carry (hypervisor `virqRingData`, each byte once per Session) are kept while
 * they continue what the ring holds, a drain then reads no ring data of its own, a push that
 * does not continue is dropped without harm, and, property-tested, whatever the pushes, their
 * budgets, the ones dropped and the moment they arrive (a publish's answer not yet seen
 * included), the messages come out exactly as they were sent.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { PushCursors, virqRingData } from "@hmx/hypervisor";
import { propertySeed } from "@hmx/virtio/test-utils";
import { RING_RX_PTR_OFFSET, ringLenForPages } from "@hmx/proto/abi";
import type { HypercallClient, HypercallOp, VirqRing } from "../hypercall/hypercall-client.js";
import { InProcessHypervisor, type InProcessClient } from "../test-utils/in-process-client.js";
import { PageAllocator } from "./page-allocator.js";
import type { RingMessage } from "./ring-reader.js";
import { RxRing, type RingSink } from "./rx-ring.js";

const MEMORY = 16 * 1024 * 1024;
const LEN = ringLenForPages(2);

/** A payload that names its index: its bytes differ from every other message's. */
function payload(index: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (index * 7 + i * 13) & 0xff;
  if (size >= 4) b.writeUInt32LE(index, 0);
  return b;
}

interface World {
  readonly hv: InProcessHypervisor;
  readonly rx: InProcessClient;
  readonly ring: RxRing;
  readonly got: RingMessage[];
  readonly sink: RingSink;
  /** Ring data bytes the ring read itself (its tx reads of 4 bytes not counted). */
  dataReadBytes: number;
  /** Run after each multicall of the ring ran (given its calls), before the ring sees its answer. */
  afterBatch: ((ops: readonly HypercallOp[]) => Promise<void>) | undefined;
  /** Sends one message of `size` bytes; false when the ring had no room (-EAGAIN). */
  send(index: number, size: number): Promise<boolean>;
  /**
   * The ring's entry in a VIRQ, as a Session with `cursors` and `budget` would carry it (the
   * cursors move whether or not the entry is then given to the ring); undefined when empty.
   */
  virq(budget: number, cursors: PushCursors | undefined): VirqRing | undefined;
  /** The ring's tx_ptr, read from its header. */
  tx(): Promise<number>;
}

async function world(options: { deferred?: boolean } = {}): Promise<World> {
  const hv = new InProcessHypervisor();
  const rx = hv.createGuest({ memoryBytes: MEMORY });
  const tx = hv.createGuest({ memoryBytes: MEMORY });
  const got: RingMessage[] = [];
  const sink: RingSink = {
    room: () => 1000,
    deliver: (m) => {
      got.push(...m);
    },
    corrupt: (c) => {
      assert.fail(`no corruption expected: ${JSON.stringify(c)}`);
    },
  };
  // The ring's client: the receiver's, counting the data it reads and letting a test act
  // between a multicall's execution and the ring's sight of its answer.
  const w: Partial<World> & {
    dataReadBytes: number;
    afterBatch: ((ops: readonly HypercallOp[]) => Promise<void>) | undefined;
  } = {
    dataReadBytes: 0,
    afterBatch: undefined,
  };
  const client = new Proxy(rx, {
    get(target, prop) {
      if (prop === "batch") {
        return async (ops: readonly HypercallOp[], opts?: { stopOnError?: boolean }) => {
          for (const op of ops)
            if (op.op === "readMemory" && op.length > 4) w.dataReadBytes += op.length;
          const out = await target.batch(ops, opts);
          await w.afterBatch?.(ops);
          return out;
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as HypercallClient;
  const ring = await RxRing.register(client, new PageAllocator({ memoryBytes: MEMORY }), {
    aport: 0x7000,
    partnerId: tx.domid,
    len: LEN,
    fill: false,
    ...(options.deferred === true ? { deferPublish: () => undefined } : {}),
  });
  const staging = new PageAllocator({ memoryBytes: MEMORY }).allocate(Math.ceil(LEN / 4096));
  const domain = hv.core.domains.get(rx.domid);
  assert.ok(domain !== undefined);
  return Object.assign(w, {
    hv,
    rx,
    ring,
    got,
    sink,
    async send(index: number, size: number) {
      await tx.writeMemory(staging.gpa, payload(index, size));
      const ret = await tx.sendv(
        { aport: 0x7001, domainId: 0x7ff4 },
        { aport: 0x7000, domainId: rx.domid },
        [{ gpa: staging.gpa, len: size }],
        index,
      );
      assert.ok(ret >= 0 || ret === -11, `sendv ${ret}`);
      return ret >= 0;
    },
    virq(budget: number, cursors: PushCursors | undefined) {
      return virqRingData(domain, budget, cursors).find((r) => r.aport === 0x7000);
    },
    async tx() {
      const { data } = await rx.readMemory(ring.gpa + 4, 4);
      return data.readUInt32LE(0);
    },
  });
}

/** The message types (each message's index) and payloads `w` received. */
function received(w: World): { type: number; data: Buffer }[] {
  return w.got.map((m) => ({ type: m.messageType, data: m.data }));
}

/** The rx_ptr in the ring's header: what the hypervisor sees. */
async function rxInHeader(w: World): Promise<number> {
  const { data } = await w.rx.readMemory(w.ring.gpa + RING_RX_PTR_OFFSET, 4);
  return data.readUInt32LE(0);
}

/** Gives the ring its entry of the next VIRQ (if it has unread data). */
function pushTo(w: World, budget: number, cursors: PushCursors | undefined): void {
  const entry = w.virq(budget, cursors);
  if (entry !== undefined) w.ring.acceptPush(entry);
}

describe("rx ring: bytes pushed with the VIRQ", () => {
  it("pushes that continue one another are kept: the drain reads no ring data", async () => {
    const w = await world();
    const cursors = new PushCursors();
    const sent = [];
    for (let i = 0; i < 5; i++) {
      assert.ok(await w.send(i, 100 + i));
      sent.push({ type: i, data: payload(i, 100 + i) });
      // A budget that cuts messages (and headers) anywhere: the ring joins the pieces.
      pushTo(w, 70, cursors);
      pushTo(w, 70, cursors);
    }
    // The rest, 70 bytes a VIRQ, until the pushes reach tx.
    for (let i = 0; i < 10; i++) pushTo(w, 70, cursors);
    await w.ring.drain(w.ring.knownTx, w.sink);
    assert.deepEqual(received(w), sent);
    assert.equal(w.dataReadBytes, 0);
  });

  it("a push that does not continue the window is dropped; the drain reads those bytes itself", async () => {
    const w = await world();
    const cursors = new PushCursors();
    for (let i = 0; i < 3; i++) assert.ok(await w.send(i, 60));
    pushTo(w, 40, cursors);
    w.virq(40, cursors); // lost: the next one leaves a hole
    pushTo(w, 40, cursors);
    await w.ring.drain(w.ring.knownTx, w.sink);
    assert.deepEqual(
      received(w),
      [0, 1, 2].map((i) => ({ type: i, data: payload(i, 60) })),
    );
    assert.ok(w.dataReadBytes > 0, "the bytes past the hole were read from the ring");
  });

  it("a push from an rx behind ours (a publish not yet made) gives only the bytes after ours", async () => {
    const w = await world({ deferred: true });
    assert.ok(await w.send(0, 50));
    assert.ok(await w.send(1, 50));
    await w.ring.drain(await w.tx(), w.sink);
    assert.equal(w.got.length, 2, "both consumed, their rx not published");
    assert.ok(await w.send(2, 50));
    w.dataReadBytes = 0;
    // A hypervisor without cursors copies from its rx (0), which the guest is 2 messages past.
    pushTo(w, 4096, undefined);
    await w.ring.drain(w.ring.knownTx, w.sink);
    assert.deepEqual(received(w)[2], { type: 2, data: payload(2, 50) });
    assert.equal(w.got.length, 3);
    assert.equal(w.dataReadBytes, 0);
  });

  it("a deferred rx store is not handed out while the drain's own store is out: rx never moves back", async () => {
    const w = await world({ deferred: true });
    // A first message, consumed with its store deferred (the hypervisor still sees rx 0).
    assert.ok(await w.send(0, 100));
    await w.ring.drain(await w.tx(), w.sink);
    assert.equal(await rxInHeader(w), 0);
    // Then more than half the ring: that drain publishes in a multicall of its own, and, while
    // that store is out, the publisher (as its idle turn would) runs whatever store the ring
    // hands out.
    for (let i = 1; i <= 4; i++) assert.ok(await w.send(i, 1000));
    w.afterBatch = async (ops) => {
      if (!ops.some((op) => op.op === "writeMemory")) return;
      const op = w.ring.takePublish();
      if (op === null) return;
      await w.rx.batch([op]);
      w.ring.publishSettled(true);
    };
    await w.ring.drain(await w.tx(), w.sink);
    w.afterBatch = undefined;
    assert.equal(w.got.length, 5);
    assert.equal(await rxInHeader(w), w.ring.rxPtr, "the hypervisor sees the newest rx");
  });

  it("an entry for a ring of another length, or outside this one, is refused", async () => {
    const w = await world();
    assert.ok(await w.send(0, 10));
    const entry = w.virq(4096, undefined);
    assert.ok(entry !== undefined);
    assert.equal(w.ring.acceptPush({ ...entry, len: LEN + 16 }), false);
    assert.equal(w.ring.acceptPush({ ...entry, txPtr: LEN }), false, "tx past the ring");
    assert.equal(w.ring.acceptPush({ ...entry, txPtr: 8 }), false, "tx not slot-aligned");
    assert.equal(w.ring.acceptPush({ ...entry, at: LEN - 4 }), false, "bytes past the ring");
    assert.equal(w.ring.hasUnread(), false, "nothing was learned from them");
  });

  it("property: whatever is pushed, dropped or late, the messages come out as sent, in order", async () => {
    const seed = propertySeed("rx ring pushes");
    const step = fc.oneof(
      {
        arbitrary: fc.record({ kind: fc.constant("send" as const), size: fc.nat({ max: 900 }) }),
        weight: 4,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant("push" as const),
          budget: fc.integer({ min: 1, max: 2500 }),
          lost: fc.boolean(),
        }),
        weight: 3,
      },
      {
        arbitrary: fc.record({ kind: fc.constant("drain" as const), late: fc.boolean() }),
        weight: 2,
      },
      {
        arbitrary: fc.record({ kind: fc.constant("pass" as const), late: fc.boolean() }),
        weight: 2,
      },
      { arbitrary: fc.record({ kind: fc.constant("publish" as const) }), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(step, { maxLength: 60 }), async (deferred, steps) => {
        const w = await world({ deferred });
        const cursors = new PushCursors();
        const sent: { type: number; data: Buffer }[] = [];
        /** The deferred-publish carrier: whatever rx store the ring hands out, run now. */
        const publishNow = async (): Promise<void> => {
          const op = w.ring.takePublish();
          if (op === null) return;
          const [store] = await w.rx.batch([op, { op: "notify", ringData: null }]);
          w.ring.publishSettled(store?.op === "writeMemory" && store.ret === 0);
        };
        /** A message arrives, and then its VIRQ (pushed to the ring). */
        const arrive = async (size: number): Promise<void> => {
          if (await w.send(sent.length, size))
            sent.push({ type: sent.length, data: payload(sent.length, size) });
          pushTo(w, 1024, cursors);
        };
        for (const s of steps) {
          if (s.kind === "pass") {
            // The endpoint's read pass: tx and a prefetch in one multicall, then the drain;
            // `late`: a message and its VIRQ land between the two (the prefetch missed them).
            const pass = w.ring.passOps();
            const outcomes = await w.rx.batch(pass.ops);
            if (s.late) await arrive(40);
            const { tx, ahead } = pass.result(outcomes, 0);
            await w.ring.drain(tx, w.sink, ahead);
            continue;
          }
          if (s.kind === "publish") {
            await publishNow();
            continue;
          }
          if (s.kind === "send") {
            if (await w.send(sent.length, s.size))
              sent.push({ type: sent.length, data: payload(sent.length, s.size) });
          } else if (s.kind === "push") {
            if (s.lost) w.virq(s.budget, cursors);
            else pushTo(w, s.budget, cursors);
          } else {
            // `late`: after each of the drain's multicalls ran and before the ring sees its
            // answer, another message arrives and its VIRQ too: the ring then knows a tx newer
            // than the one its multicall read, and bytes its reads could not have seen.
            // Bounded: each late message makes the drain turn once more.
            let late = s.late ? 3 : 0;
            w.afterBatch = s.late
              ? async () => {
                  // The publisher's turn too: a deferred store must not undo the drain's own.
                  await publishNow();
                  if (late-- > 0) await arrive(40);
                }
              : undefined;
            await w.ring.drain(await w.tx(), w.sink);
            w.afterBatch = undefined;
          }
        }
        await w.ring.drain(await w.tx(), w.sink);
        assert.deepEqual(received(w), sent);
      }),
      { numRuns: 80, seed },
    );
  });
});
