// SPDX-License-Identifier: Apache-2.0
/**
 * Tests of the pure ring reader against argo-spec §4.6 (consumption) and §4.3 (the layout the
 * hypervisor writes), including a fast-check property that the reader and a model of
 * `ringbuf_insert` agree on random message sequences.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ARGO_MSG_HEADER_SIZE, Errno, ringBytesAvailable } from "@hmx/proto/abi";
import { modelInsert, newModelRing } from "../test-utils/ring-writer-model.js";
import { readRing } from "./ring-reader.js";

const SRC = { aport: 0x1234, domainId: 7 };
const TYPE = 0x6447724d;

function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe("ring reader (argo-spec §4.6)", () => {
  it("an empty ring (rx == tx) yields nothing and keeps rx", () => {
    const ring = newModelRing(256, 96);
    const r = readRing({ len: 256, rxPtr: 96, txPtr: 96, ring: ring.data });
    assert.deepEqual(r.messages, []);
    assert.equal(r.rxPtr, 96);
    assert.equal(r.corruption, null);
  });

  it("reads one message with its stamped source, type and payload", () => {
    const ring = newModelRing(256);
    assert.equal(modelInsert(ring, SRC, 0x12345678, Buffer.from("A simple thing to send\n")), 23);
    assert.equal(ring.txPtr, 48); // ROUNDUP16(16 + 23), as the XTF test checks
    const r = readRing({ len: 256, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data });
    assert.equal(r.messages.length, 1);
    assert.deepEqual(r.messages[0]?.source, SRC);
    assert.equal(r.messages[0].messageType, 0x12345678);
    assert.equal(r.messages[0].data.toString(), "A simple thing to send\n");
    assert.equal(r.rxPtr, 48);
  });

  it("reads a zero-length (header-only) message", () => {
    const ring = newModelRing(64);
    assert.equal(modelInsert(ring, SRC, TYPE, Buffer.alloc(0)), 0);
    const r = readRing({ len: 64, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data });
    assert.equal(r.messages.length, 1);
    assert.equal(r.messages[0]?.data.length, 0);
    assert.equal(r.rxPtr, 16);
  });

  it("skips the padding after a payload that is not a multiple of 16", () => {
    const ring = newModelRing(256);
    modelInsert(ring, SRC, TYPE, bytes(1));
    modelInsert(ring, SRC, TYPE, bytes(17, 2));
    // 16 + 1 -> 32; then 16 + 17 = 33 -> 48: tx = 80, padding bytes keep the 0x5a fill.
    assert.equal(ring.txPtr, 80);
    const r = readRing({ len: 256, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data });
    assert.deepEqual(
      r.messages.map((m) => m.data),
      [bytes(1), bytes(17, 2)],
    );
    assert.equal(r.rxPtr, 80);
  });

  it("reads several messages in ring order", () => {
    const ring = newModelRing(1024);
    const sent = [0, 5, 16, 31, 100].map((n, i) => bytes(n, i));
    for (const p of sent) assert.equal(modelInsert(ring, SRC, TYPE, p), p.length);
    const r = readRing({ len: 1024, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data });
    assert.deepEqual(
      r.messages.map((m) => m.data),
      sent,
    );
    assert.equal(r.rxPtr, ring.txPtr);
  });

  it("the ring reader wraps a payload across the end of the ring", () => {
    const len = 128;
    const ring = newModelRing(len, 80); // header at 80, payload from 96: 32 bytes then wrap
    const payload = bytes(50, 9);
    assert.equal(modelInsert(ring, SRC, TYPE, payload), 50);
    assert.equal(ring.txPtr, 32); // 96 + 50 = 146 -> 18 -> ROUNDUP16 = 32
    const r = readRing({ len, rxPtr: 80, txPtr: ring.txPtr, ring: ring.data });
    assert.deepEqual(r.messages[0]?.data, payload);
    assert.equal(r.rxPtr, 32);
  });

  it("reads a header in the last slot whose payload starts at offset 0", () => {
    const len = 128;
    const ring = newModelRing(len, 112); // the header takes ring[112..128)
    const payload = bytes(20, 3);
    modelInsert(ring, SRC, TYPE, payload);
    assert.equal(ring.txPtr, 32);
    const r = readRing({ len, rxPtr: 112, txPtr: ring.txPtr, ring: ring.data });
    assert.deepEqual(r.messages[0]?.data, payload);
    assert.equal(r.rxPtr, 32);
  });

  it("a message ending exactly at the end of the ring leaves rx at 0", () => {
    const len = 128;
    const ring = newModelRing(len, 64);
    modelInsert(ring, SRC, TYPE, bytes(48));
    assert.equal(ring.txPtr, 0);
    const r = readRing({ len, rxPtr: 64, txPtr: 0, ring: ring.data });
    assert.deepEqual(r.messages[0]?.data, bytes(48));
    assert.equal(r.rxPtr, 0);
  });

  it("the minimum 48-byte ring carries one 16-byte payload and then is full", () => {
    const ring = newModelRing(48);
    assert.equal(modelInsert(ring, SRC, TYPE, bytes(16)), 16);
    assert.equal(modelInsert(ring, SRC, TYPE, bytes(1)), -Errno.EAGAIN);
    const r = readRing({ len: 48, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data });
    assert.deepEqual(r.messages[0]?.data, bytes(16));
    assert.equal(r.rxPtr, 32);
  });

  it("stops after maxMessages and returns the rx of the next unread message", () => {
    const ring = newModelRing(512);
    for (let i = 0; i < 4; i++) modelInsert(ring, SRC, TYPE, bytes(8, i));
    const r = readRing({ len: 512, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data, maxMessages: 3 });
    assert.equal(r.messages.length, 3);
    assert.equal(r.rxPtr, 96);
    const rest = readRing({ len: 512, rxPtr: r.rxPtr, txPtr: ring.txPtr, ring: ring.data });
    assert.deepEqual(rest.messages[0]?.data, bytes(8, 3));
  });

  it("a header len below 16 is corruption: rx jumps to tx and the rest is discarded", () => {
    const ring = newModelRing(256);
    modelInsert(ring, SRC, TYPE, bytes(10));
    modelInsert(ring, SRC, TYPE, bytes(10, 2));
    new DataView(ring.data.buffer).setUint32(32, 15, true);
    const r = readRing({ len: 256, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data });
    assert.equal(r.messages.length, 1);
    assert.equal(r.rxPtr, ring.txPtr);
    assert.equal(r.corruption?.reason, "header len too small");
    assert.equal(r.corruption.headerLen, 15);
    assert.equal(r.corruption.rxPtr, 32);
    assert.equal(r.corruption.discardedBytes, 32);
  });

  it("a header len above the bytes available is corruption and recovers to tx", () => {
    const ring = newModelRing(256);
    modelInsert(ring, SRC, TYPE, bytes(10));
    new DataView(ring.data.buffer).setUint32(0, 33, true); // 33 > 32 available
    const r = readRing({ len: 256, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data });
    assert.deepEqual(r.messages, []);
    assert.equal(r.rxPtr, 32);
    assert.equal(r.corruption?.reason, "header len too large");
  });

  it("an rx_ptr out of range or unaligned recovers to tx", () => {
    const ring = newModelRing(256);
    for (const rx of [256, 8, -16]) {
      const r = readRing({ len: 256, rxPtr: rx, txPtr: 64, ring: ring.data });
      assert.equal(r.rxPtr, 64);
      assert.equal(r.corruption?.reason, "rx_ptr invalid");
    }
  });

  it("a tx_ptr out of range is reported and rx stays put", () => {
    const ring = newModelRing(256);
    const r = readRing({ len: 256, rxPtr: 32, txPtr: 257, ring: ring.data });
    assert.equal(r.rxPtr, 32);
    assert.equal(r.corruption?.reason, "tx_ptr invalid");
  });

  it("ringBytesAvailable is (tx - rx) mod len", () => {
    assert.equal(ringBytesAvailable(256, 32, 96), 64);
    assert.equal(ringBytesAvailable(256, 224, 32), 64);
    assert.equal(ringBytesAvailable(256, 48, 48), 0);
  });
});

describe("ring reader property (argo-spec §4.3 writer model vs §4.6 reader)", () => {
  const seed =
    process.env["HMX_TEST_SEED"] === undefined
      ? Date.now() ^ (Math.random() * 0x7fffffff)
      : Number(process.env["HMX_TEST_SEED"]);
  console.log(`ring-reader property seed: ${seed} (rerun with HMX_TEST_SEED=${seed})`);

  it("the reader returns exactly the accepted messages, in order, for random sequences", () => {
    const op = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant("send" as const),
          size: fc.nat({ max: 300 }),
          domainId: fc.integer({ min: 1, max: 0x7fef }),
          aport: fc.nat({ max: 0xffffffff >>> 0 }),
          type: fc.nat({ max: 0xffffffff >>> 0 }),
        }),
        weight: 4,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant("read" as const),
          max: fc.integer({ min: 1, max: 8 }),
        }),
        weight: 1,
      },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 40 }).map((slots) => slots * 16),
        fc.nat(),
        fc.array(op, { maxLength: 80 }),
        (len, startSeed, ops) => {
          const start = (startSeed % (len / 16)) * 16;
          const ring = newModelRing(len, start, 0xa5);
          const expected: {
            source: { aport: number; domainId: number };
            messageType: number;
            data: Buffer;
          }[] = [];
          let rx = start;
          let n = 0;
          const check = (max?: number): void => {
            const r = readRing({
              len,
              rxPtr: rx,
              txPtr: ring.txPtr,
              ring: ring.data,
              ...(max === undefined ? {} : { maxMessages: max }),
            });
            assert.equal(r.corruption, null);
            const want = expected.splice(0, max ?? expected.length);
            assert.deepEqual(r.messages, want);
            rx = r.rxPtr;
            ring.rxPtr = rx;
          };
          for (const o of ops) {
            if (o.kind === "read") {
              check(o.max);
              continue;
            }
            const payload = bytes(o.size, n++);
            const ret = modelInsert(
              ring,
              { aport: o.aport, domainId: o.domainId },
              o.type,
              payload,
            );
            if (ret >= 0)
              expected.push({
                source: { aport: o.aport, domainId: o.domainId },
                messageType: o.type,
                data: payload,
              });
            else assert.ok(ret === -Errno.EAGAIN || ret === -Errno.EMSGSIZE);
            if (ret === -Errno.EMSGSIZE)
              assert.ok(len <= ARGO_MSG_HEADER_SIZE + Math.ceil(o.size / 16) * 16);
          }
          check();
          assert.equal(rx, ring.txPtr);
        },
      ),
      { numRuns: 300, seed },
    );
  });
});

describe("ring reader: partial fetches (limit) and zero-copy spans", () => {
  it("stops cleanly at a message that is in the ring but not fetched yet, without corruption", () => {
    const ring = newModelRing(512);
    modelInsert(ring, SRC, TYPE, bytes(40, 1)); // 16 + 40 -> 64 ring bytes
    modelInsert(ring, SRC, TYPE, bytes(100, 2)); // 16 + 100 -> 128 ring bytes
    const tx = ring.txPtr;
    assert.equal(tx, 192);
    // Only the first message and half of the second were fetched.
    const r = readRing({ len: 512, rxPtr: 0, txPtr: tx, ring: ring.data, limit: 64 + 60 });
    assert.equal(r.corruption, null);
    assert.equal(r.messages.length, 1);
    assert.deepEqual(r.messages[0]?.data, bytes(40, 1));
    assert.equal(r.rxPtr, 64);
    // Fewer bytes than one header: nothing taken, rx unchanged, still no corruption.
    const none = readRing({ len: 512, rxPtr: 0, txPtr: tx, ring: ring.data, limit: 8 });
    assert.deepEqual(none, { messages: [], rxPtr: 0, corruption: null });
    // A limit that covers everything reads everything.
    const all = readRing({ len: 512, rxPtr: 0, txPtr: tx, ring: ring.data, limit: 192 });
    assert.equal(all.messages.length, 2);
    assert.equal(all.rxPtr, tx);
  });

  it("still reports a header len beyond tx as corruption, whatever the limit", () => {
    const ring = newModelRing(256);
    modelInsert(ring, SRC, TYPE, bytes(20));
    new DataView(ring.data.buffer).setUint32(0, 1000, true); // header len past tx
    const r = readRing({ len: 256, rxPtr: 0, txPtr: ring.txPtr, ring: ring.data, limit: 16 });
    assert.equal(r.corruption?.reason, "header len too large");
    assert.equal(r.rxPtr, ring.txPtr);
  });

  it("hands out payloads inside a span as views of it, others as copies of the image", () => {
    const ring = newModelRing(512);
    modelInsert(ring, SRC, TYPE, bytes(40, 1)); // ring bytes [0, 64)
    modelInsert(ring, SRC, TYPE, bytes(100, 2)); // ring bytes [64, 192)
    const span = Buffer.from(ring.data.subarray(0, 64)); // as if fetched by one ReadMemory
    const r = readRing({
      len: 512,
      rxPtr: 0,
      txPtr: ring.txPtr,
      ring: ring.data,
      spans: [{ at: 0, data: span }],
    });
    assert.equal(r.messages.length, 2);
    const [first, second] = r.messages;
    assert.ok(first !== undefined && second !== undefined);
    assert.deepEqual(first.data, bytes(40, 1));
    assert.deepEqual(second.data, bytes(100, 2));
    // Aliasing, observed by writing: the first payload is a view of the span, and neither is a
    // view of the ring image (small Buffers share a pool, so identity checks would mislead).
    span[16] = 0xee;
    ring.data.fill(0);
    assert.equal(first.data[0], 0xee);
    assert.deepEqual(second.data, bytes(100, 2));
  });

  it("reads headers and wrapping payloads from the spans, not the image, where spans hold them", () => {
    const ring = newModelRing(256, 160);
    modelInsert(ring, SRC, TYPE, bytes(20, 4)); // [160, 196) -> next at 208
    modelInsert(ring, { aport: 9, domainId: 3 }, TYPE + 1, bytes(100, 5)); // 208.., wraps to 68
    modelInsert(ring, SRC, TYPE, bytes(8, 6)); // [80, 104)
    const tx = ring.txPtr;
    assert.equal(tx, 112);
    // Fetched in pieces whose boundaries cut the first header and the second payload; no
    // image at all (the receive ring keeps none: its fetches are the spans).
    const cuts = [160, 168, 230, 256];
    const spans = cuts.slice(0, -1).map((at, i) => ({
      at,
      data: Buffer.from(ring.data.subarray(at, cuts[i + 1])),
    }));
    spans.push({ at: 0, data: Buffer.from(ring.data.subarray(0, 40)) });
    spans.push({ at: 40, data: Buffer.from(ring.data.subarray(40, tx)) });
    const r = readRing({ len: 256, rxPtr: 160, txPtr: tx, ring: Buffer.alloc(0), spans });
    assert.equal(r.corruption, null);
    assert.equal(r.rxPtr, tx);
    assert.deepEqual(
      r.messages.map((m) => [m.source, m.messageType, [...m.data]]),
      [
        [SRC, TYPE, [...bytes(20, 4)]],
        [{ aport: 9, domainId: 3 }, TYPE + 1, [...bytes(100, 5)]],
        [SRC, TYPE, [...bytes(8, 6)]],
      ],
    );
    // A byte no span holds still comes from the image.
    const image = Buffer.from(ring.data);
    const partial = readRing({
      len: 256,
      rxPtr: 160,
      txPtr: tx,
      ring: image,
      spans: [{ at: 160, data: Buffer.from(ring.data.subarray(160, 200)) }],
    });
    assert.equal(partial.messages.length, 3);
    assert.deepEqual(partial.messages[1]?.data, bytes(100, 5));
    // Without an image, a byte no span holds is an error, never a stale or zero byte.
    assert.throws(
      () =>
        readRing({ len: 256, rxPtr: 160, txPtr: tx, ring: Buffer.alloc(0), spans: spans.slice(1) }),
      RangeError,
    );
    assert.throws(
      () => readRing({ len: 256, rxPtr: 160, txPtr: tx, ring: Buffer.alloc(0) }),
      /ring buffer holds 0 bytes/,
    );
  });

  it("copies a payload that wraps even when spans cover both of its parts", () => {
    const ring = newModelRing(128, 96);
    modelInsert(ring, SRC, TYPE, bytes(40, 3)); // header at 96, payload wraps to [0, 24)
    const tail = Buffer.from(ring.data.subarray(96, 128));
    const head = Buffer.from(ring.data.subarray(0, 32));
    const r = readRing({
      len: 128,
      rxPtr: 96,
      txPtr: ring.txPtr,
      ring: ring.data,
      spans: [
        { at: 96, data: tail },
        { at: 0, data: head },
      ],
    });
    const [only] = r.messages;
    assert.ok(only !== undefined && r.messages.length === 1);
    assert.deepEqual(only.data, bytes(40, 3));
    tail.fill(0);
    head.fill(0);
    ring.data.fill(0);
    assert.deepEqual(only.data, bytes(40, 3));
  });
});
