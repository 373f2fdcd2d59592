// SPDX-License-Identifier: Apache-2.0
/**
 * `RxRing`'s deferred publish (rx-ring.ts "Deferred publish") against the real hypervisor core
 * in process: a ring with a `deferPublish` hook advances rx locally and hands itself over while
 * the sender still sees room; `takePublish` gives the rx store exactly once, again after a
 * failure; a ring without the hook publishes in its own multicall, as it always did.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RING_RX_PTR_OFFSET, ringLenForPages } from "@hmx/proto/abi";
import { PREFETCH_MAX } from "./prefetch-policy.js";
import { InProcessHypervisor, type InProcessClient } from "../test-utils/in-process-client.js";
import { PageAllocator } from "./page-allocator.js";
import type { RingMessage } from "./ring-reader.js";
import { RxRing, type RingSink } from "./rx-ring.js";

const MEMORY = 16 * 1024 * 1024;
const LEN = ringLenForPages(4);

function sink(): RingSink & { got: RingMessage[] } {
  const got: RingMessage[] = [];
  return {
    got,
    room: () => 1000,
    deliver: (m) => {
      got.push(...m);
    },
    corrupt: () => {
      assert.fail("no corruption expected");
    },
  };
}

/** A receiving ring on `rx` (with or without the hook) and `n` messages of `size` sent to it. */
async function setup(
  deferred: boolean,
  wraps = false,
  len = LEN,
): Promise<{
  rx: InProcessClient;
  ring: RxRing;
  deferrals: RxRing[];
  send: (size: number, bytes?: Uint8Array) => Promise<void>;
}> {
  const hv = new InProcessHypervisor();
  const rx = hv.createGuest({ memoryBytes: MEMORY });
  const tx = hv.createGuest({ memoryBytes: MEMORY });
  const deferrals: RxRing[] = [];
  const ring = await RxRing.register(rx, new PageAllocator({ memoryBytes: MEMORY }), {
    aport: 0x7000,
    partnerId: tx.domid,
    len,
    fill: false,
    ...(deferred ? { deferPublish: (r: RxRing) => deferrals.push(r) } : {}),
    ...(wraps ? { prefetchWraps: true } : {}),
  });
  const staging = new PageAllocator({ memoryBytes: MEMORY }).allocate(Math.ceil(len / 4096));
  const send = async (size: number, bytes?: Uint8Array): Promise<void> => {
    await tx.writeMemory(staging.gpa, bytes ?? new Uint8Array(size).fill(7));
    const ret = await tx.sendv(
      { aport: 0x7001, domainId: 0x7ff4 },
      { aport: 0x7000, domainId: rx.domid },
      [{ gpa: staging.gpa, len: size }],
      0x1234,
    );
    assert.ok(ret >= 0, `sendv ${ret}`);
  };
  return { rx, ring, deferrals, send };
}

async function drainOnce(rx: InProcessClient, ring: RxRing, s: RingSink): Promise<void> {
  const { data } = await rx.readMemory(ring.gpa + 4, 4); // tx_ptr
  await ring.drain(data.readUInt32LE(0), s);
}

async function headerRx(rx: InProcessClient, ring: RxRing): Promise<number> {
  const { data } = await rx.readMemory(ring.gpa + RING_RX_PTR_OFFSET, 4);
  return data.readUInt32LE(0);
}

describe("rx ring deferred publish", () => {
  it("with room left, a drain advances rx locally, hands the ring over, and stores nothing itself", async () => {
    const { rx, ring, deferrals, send } = await setup(true);
    await send(100);
    const s = sink();
    const writes = rx.counters.byOp["writeMemory"] ?? 0;
    const notifies = rx.counters.byOp["notify"] ?? 0;
    await drainOnce(rx, ring, s);
    assert.equal(s.got.length, 1);
    assert.deepEqual(deferrals, [ring]);
    assert.ok(ring.rxPtr > 0);
    assert.equal(await headerRx(rx, ring), 0, "not published yet");
    assert.equal(rx.counters.byOp["writeMemory"] ?? 0, writes, "no rx store");
    assert.equal(rx.counters.byOp["notify"] ?? 0, notifies, "no notify");
  });

  it("takePublish gives the rx store once, and again after a failed one", async () => {
    const { rx, ring, send } = await setup(true);
    await send(100);
    await drainOnce(rx, ring, sink());
    const op = ring.takePublish();
    assert.ok(op?.op === "writeMemory" && op.gpa === ring.gpa + RING_RX_PTR_OFFSET);
    assert.equal(Buffer.from(op.data).readUInt32LE(0), ring.rxPtr);
    assert.equal(ring.takePublish(), null, "taken already");
    ring.publishSettled(false);
    const again = ring.takePublish();
    assert.ok(again !== null, "a failed store is taken again");
    const [o] = await rx.batch([again]);
    ring.publishSettled(o?.op === "writeMemory" && o.ret === 0);
    assert.equal(await headerRx(rx, ring), ring.rxPtr);
    assert.equal(ring.takePublish(), null);
  });

  it("a drain that saw more than half the ring in use publishes at once, even with the hook", async () => {
    const { rx, ring, deferrals, send } = await setup(true);
    await send(Math.floor(LEN * 0.6));
    await drainOnce(rx, ring, sink());
    assert.deepEqual(deferrals, []);
    assert.equal(await headerRx(rx, ring), ring.rxPtr);
    assert.equal(ring.takePublish(), null);
  });

  it("a ring without the hook publishes after every drain, as before", async () => {
    const { rx, ring, send } = await setup(false);
    await send(100);
    await drainOnce(rx, ring, sink());
    assert.equal(await headerRx(rx, ring), ring.rxPtr);
    assert.equal(ring.takePublish(), null);
  });
});

describe("rx ring prefetch across the end of the ring", () => {
  it("with prefetchWraps, a VIRQ pass's prefetch that reaches the end of the ring continues at its start: a wrapping message needs no further read", async () => {
    const { rx, ring, send } = await setup(false, true);
    const size = 12_000; // two of these do not fit LEN (16,320) without the second wrapping
    const s = sink();
    const pass = async (): Promise<void> => {
      const p = ring.passOps();
      const { tx, ahead } = p.result(await rx.batch(p.ops), 0);
      await ring.drain(tx, s, ahead);
    };
    // The first message sizes the next pass's prefetch (the last burst).
    await send(size);
    await pass();
    assert.equal(s.got.length, 1);
    const wrapping = Uint8Array.from({ length: size }, (_, i) => i % 251);
    await send(size, wrapping);
    const p = ring.passOps();
    assert.equal(p.ops.length, 3, "tx, then [rx, end), then [0, ...)");
    const { tx, ahead } = p.result(await rx.batch(p.ops), 0);
    assert.ok(ahead.head !== undefined && ahead.head.length > 0);
    const reads = rx.counters.byOp["readMemory"] ?? 0;
    await ring.drain(tx, s, ahead);
    assert.equal(s.got.length, 2);
    assert.deepEqual(new Uint8Array(s.got[1]?.data ?? []), wrapping, "reassembled in order");
    // Only the publish multicall's tx read: no read of the wrapped part.
    assert.equal((rx.counters.byOp["readMemory"] ?? 0) - reads, 1);
    assert.equal(await headerRx(rx, ring), ring.rxPtr);
  });

  it("the wrapped part of a prefetch past tx is ignored: only complete messages are delivered", async () => {
    const { rx, ring, send } = await setup(false, true);
    const s = sink();
    const pass = async (): Promise<void> => {
      const p = ring.passOps();
      const { tx, ahead } = p.result(await rx.batch(p.ops), 0);
      await ring.drain(tx, s, ahead);
    };
    await send(12_000);
    await pass(); // the next burst is ~12 KiB, from rx = 12,016: it wraps
    await send(100);
    await pass();
    assert.deepEqual(
      s.got.map((m) => m.data.length),
      [12_000, 100],
    );
    assert.ok(s.got[1]?.data.every((b) => b === 7));
  });
});

describe("rx ring prefetch of a message larger than PREFETCH_MAX", () => {
  const big = PREFETCH_MAX + 200_000; // a virtio-blk request of ~700 KiB in one message
  const bigLen = ringLenForPages(260);

  it("with prefetchWraps, the VIRQ pass's prefetch reads the whole message: no second read", async () => {
    const { rx, ring, send } = await setup(false, true, bigLen);
    const s = sink();
    const pass = async (): Promise<void> => {
      const p = ring.passOps();
      const { tx, ahead } = p.result(await rx.batch(p.ops), 0);
      await ring.drain(tx, s, ahead);
    };
    await send(big);
    await pass(); // sizes the next pass's prefetch: the last burst
    const payload = Uint8Array.from({ length: big }, (_, i) => i % 253);
    await send(big, payload);
    const p = ring.passOps();
    const prefetched = p.ops
      .slice(1)
      .reduce((n, o) => n + (o.op === "readMemory" ? o.length : 0), 0);
    assert.ok(prefetched > PREFETCH_MAX, `prefetch ${prefetched} bytes`);
    const { tx, ahead } = p.result(await rx.batch(p.ops), 0);
    const reads = rx.counters.byOp["readMemory"] ?? 0;
    await ring.drain(tx, s, ahead);
    assert.equal(s.got.length, 2);
    assert.deepEqual(new Uint8Array(s.got[1]?.data ?? []), payload);
    assert.equal((rx.counters.byOp["readMemory"] ?? 0) - reads, 1, "only the publish's tx read");
  });

  it("without prefetchWraps, a prefetch stays within PREFETCH_MAX (a socket's read is bounded)", async () => {
    const { ring, rx, send } = await setup(false, false, bigLen);
    const s = sink();
    await send(big);
    const first = ring.passOps();
    const r = first.result(await rx.batch(first.ops), 0);
    await ring.drain(r.tx, s, r.ahead);
    const p = ring.passOps();
    const prefetched = p.ops
      .slice(1)
      .reduce((n, o) => n + (o.op === "readMemory" ? o.length : 0), 0);
    assert.ok(prefetched <= PREFETCH_MAX, `prefetch ${prefetched} bytes`);
  });
});

describe("rx ring prefetch without prefetchWraps", () => {
  it("a ring that did not opt in never prefetches past the end of the ring", async () => {
    const { rx, ring, send } = await setup(false);
    const s = sink();
    await send(12_000);
    const first = ring.passOps();
    const r = first.result(await rx.batch(first.ops), 0);
    await ring.drain(r.tx, s, r.ahead);
    await send(12_000); // wraps
    const p = ring.passOps();
    assert.equal(p.ops.length, 2, "tx, then [rx, end) only");
    const { tx, ahead } = p.result(await rx.batch(p.ops), 0);
    assert.equal(ahead.head, undefined);
    await ring.drain(tx, s, ahead);
    assert.deepEqual(
      s.got.map((m) => m.data.length),
      [12_000, 12_000],
    );
  });
});
