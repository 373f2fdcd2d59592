// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-argo codec (docs/virtio-argo.md "Transport over Argo"): every control message
 * round-trips, decoders refuse what breaks the format, AVAIL/USED records round-trip through
 * the fragmenter within Xen's 8 iovs and the ring's message size, and random bytes never make
 * a decoder throw anything but `VioaDecodeError` (seeded, replay with HMX_TEST_SEED).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ARGO_MAXIOV, maxMessageSize, VIRTIO_ARGO_BLK_RING_LEN } from "@hmx/proto/abi";
import { propertySeed } from "@hmx/virtio/test-utils";
import { fragmentCap, packAvail, packUsed } from "./fragmenter.js";
import {
  VIOA_HEADER_SIZE,
  VioaDecodeError,
  VioaMsg,
  decodeControlRequest,
  decodeControlResponse,
  decodeFrame,
  encodeControlRequest,
  encodeControlResponse,
  encodeMessage,
  type ControlRequest,
  type ControlResponseBody,
} from "./messages.js";
import {
  decodeAvailEvent,
  decodeUsedEvent,
  encodeAvailRecords,
  encodeUsedEvent,
  usedEventParts,
} from "./records.js";

test("every control request round-trips through the 12-byte header", () => {
  const reqs: ControlRequest[] = [
    { id: VioaMsg.DEVICE_INFO },
    { id: VioaMsg.GET_DEV_FEATURES, index: 0, num: 4 },
    { id: VioaMsg.SET_DRV_FEATURES, index: 0, words: [1, 2, 3, 0xffffffff] },
    { id: VioaMsg.GET_CONFIG, offset: 8, size: 4 },
    { id: VioaMsg.SET_CONFIG, generation: 3, offset: 8, bytes: Uint8Array.of(65) },
    { id: VioaMsg.GET_DEVICE_STATUS },
    { id: VioaMsg.SET_DEVICE_STATUS, status: 15 },
    { id: VioaMsg.GET_VQUEUE, index: 1 },
    { id: VioaMsg.SET_VQUEUE, index: 1, size: 64 },
    { id: VioaMsg.RESET_VQUEUE, index: 0 },
  ];
  for (const r of reqs) {
    const msg = encodeMessage(
      { response: false, msgId: r.id, devId: 3, token: 0x1234 },
      encodeControlRequest(r),
    );
    const f = decodeFrame(msg);
    assert.deepEqual([f.response, f.msgId, f.devId, f.token], [false, r.id, 3, 0x1234]);
    assert.deepEqual(decodeControlRequest(f.msgId, f.payload), r);
  }
});

test("every control response round-trips, and an error response carries only ret", () => {
  const bodies: ControlResponseBody[] = [
    {
      id: VioaMsg.DEVICE_INFO,
      deviceId: 2,
      vendorId: 7,
      numFeatureBits: 128,
      configSize: 72,
      maxVqCount: 1,
    },
    { id: VioaMsg.GET_DEV_FEATURES, index: 0, words: [5, 6] },
    { id: VioaMsg.GET_CONFIG, generation: 9, offset: 0, bytes: Uint8Array.of(1, 2, 3) },
    { id: VioaMsg.GET_DEVICE_STATUS, status: 7 },
    { id: VioaMsg.GET_VQUEUE, index: 0, maxSize: 256 },
    { id: VioaMsg.SET_VQUEUE },
  ];
  for (const b of bodies)
    assert.deepEqual(decodeControlResponse(b.id, encodeControlResponse(b.id, 0, b)), {
      ret: 0,
      body: b,
    });
  assert.deepEqual(
    decodeControlResponse(VioaMsg.SET_VQUEUE, encodeControlResponse(VioaMsg.SET_VQUEUE, -22)),
    { ret: -22 },
  );
});

test("a frame with a wrong payload_len, a reserved field set, bus bits, trailing bytes or an unknown id is refused", () => {
  const good = encodeMessage(
    { response: false, msgId: VioaMsg.GET_DEVICE_STATUS, devId: 0, token: 1 },
    new Uint8Array(0),
  );
  const bad: Uint8Array[] = [
    good.subarray(0, 11),
    Uint8Array.from([...good, 0]),
    Uint8Array.from(good).fill(2, 0, 1),
    Uint8Array.from(good).fill(1, 6, 7),
  ];
  for (const b of bad) assert.throws(() => decodeFrame(b), VioaDecodeError);
  assert.throws(
    () => decodeControlRequest(VioaMsg.GET_DEVICE_STATUS, Uint8Array.of(0)),
    VioaDecodeError,
  );
  assert.throws(() => decodeControlRequest(0x77, new Uint8Array(0)), VioaDecodeError);
  assert.throws(
    () =>
      decodeControlRequest(
        VioaMsg.SET_DRV_FEATURES,
        encodeControlRequest({ id: VioaMsg.SET_DRV_FEATURES, index: 3, words: [1, 2] }),
      ),
    VioaDecodeError,
  );
  assert.throws(
    () => decodeControlResponse(VioaMsg.GET_DEVICE_STATUS, Uint8Array.of(1, 0, 0, 0)),
    VioaDecodeError,
    "positive ret",
  );
});

test("avail records whose inline bytes do not add up, a readable segment after a writable one, or a continuation with segments are refused", () => {
  const limits = { maxRecords: 64, maxSegments: 256 };
  const recs = encodeAvailRecords(0, [
    {
      head: 1,
      frag: 0,
      last: true,
      segments: [{ len: 4, writable: false }],
      totalReadable: 4,
      inlineLen: 4,
    },
  ]);
  assert.throws(
    () => decodeAvailEvent(Uint8Array.from([...recs, 1, 2, 3]), limits),
    VioaDecodeError,
  );
  assert.equal(
    decodeAvailEvent(Uint8Array.from([...recs, 1, 2, 3, 4]), limits).records[0]?.data.length,
    4,
  );
  const order = encodeAvailRecords(0, [
    {
      head: 1,
      frag: 0,
      last: true,
      segments: [
        { len: 1, writable: true },
        { len: 4, writable: false },
      ],
      totalReadable: 4,
      inlineLen: 0,
    },
  ]);
  assert.throws(() => decodeAvailEvent(order, limits), VioaDecodeError);
  const cont = encodeAvailRecords(0, [
    {
      head: 1,
      frag: 1,
      last: true,
      segments: [{ len: 1, writable: true }],
      totalReadable: 0,
      inlineLen: 0,
    },
  ]);
  assert.throws(() => decodeAvailEvent(cont, limits), VioaDecodeError);
});

test("the fragmenter keeps every message within 8 iovs and the ring's message size, and the fragments reassemble each chain's bytes (property)", () => {
  const seed = propertySeed("virtio-argo fragmenter");
  fc.assert(
    fc.property(
      fc.array(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.boolean()), {
          minLength: 1,
          maxLength: 12,
        }),
        { minLength: 1, maxLength: 6 },
      ),
      fc.integer({ min: 600, max: 20000 }),
      (chainSpecs, maxMessage) => {
        let addr = 0;
        const chains = chainSpecs.map((segs, head) => {
          // Readable segments first, as a valid chain has them.
          const sorted = [...segs].sort((a, b) => Number(a[1]) - Number(b[1]));
          return {
            head,
            segments: sorted.map(([len, writable]) => ({
              addr: (addr += len + 1) - len - 1,
              len,
              writable,
            })),
          };
        });
        const messages = packAvail(chains, maxMessage);
        const got = new Map<number, { gpa: number; len: number }[]>();
        for (const m of messages) {
          assert.ok(m.pieces.length + 1 <= ARGO_MAXIOV);
          const size =
            VIOA_HEADER_SIZE +
            encodeAvailRecords(0, m.records).length +
            m.pieces.reduce((n, p) => n + p.len, 0);
          assert.ok(size <= maxMessage, `message of ${size} > ${maxMessage}`);
          let p = 0;
          for (const r of m.records) {
            let need = r.inlineLen;
            const list = got.get(r.head) ?? [];
            while (need > 0) {
              const piece = m.pieces[p];
              assert.ok(piece);
              list.push(piece);
              need -= piece.len;
              p++;
            }
            assert.equal(need, 0);
            got.set(r.head, list);
          }
        }
        for (const c of chains) {
          const want = c.segments.filter((s) => !s.writable && s.len > 0);
          const flat = (xs: { gpa?: number; addr?: number; len: number }[]): number[] =>
            xs.flatMap((x) => Array.from({ length: x.len }, (_, i) => (x.gpa ?? x.addr ?? 0) + i));
          assert.deepEqual(flat(got.get(c.head) ?? []), flat(want));
        }
      },
    ),
    { seed, numRuns: 300 },
  );
});

test("used completions split into fragments that decode back to the same bytes", () => {
  const data = new Uint8Array(10000).map((_, i) => i & 0xff);
  const msgs = packUsed(
    [
      { head: 3, writtenLen: data.length, data },
      { head: 4, writtenLen: 1, data: Uint8Array.of(9) },
    ],
    4096,
  );
  const out: number[] = [];
  for (const records of msgs) {
    const ev = decodeUsedEvent(encodeUsedEvent(0, records), { maxRecords: 64, maxSegments: 0 });
    for (const r of ev.records) if (r.head === 3) out.push(...r.data);
  }
  assert.deepEqual(Uint8Array.from(out), data);
});

test("a used event's parts are its header and records, then each record's data as given", () => {
  const big = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
  const records = [
    { head: 3, frag: 0, last: true, writtenLen: big.length, data: big.subarray(1000, 4000) },
    { head: 4, frag: 0, last: true, writtenLen: 0, data: new Uint8Array(0) },
    { head: 6, frag: 0, last: true, writtenLen: 1, data: big.subarray(7, 8) },
  ];
  const { head, data } = usedEventParts(2, records, VIOA_HEADER_SIZE);
  // 12 bytes left for the inner header, the event header, three records; no part for no data.
  assert.equal(head.length, VIOA_HEADER_SIZE + 8 + 3 * 16);
  const [first, second] = data;
  assert.ok(data.length === 2 && first !== undefined && second !== undefined);
  // The data parts are the callers' bytes, not copies (the back end stages them once).
  assert.equal(first.buffer, big.buffer);
  assert.equal(first.byteOffset, 1000);
  assert.equal(second.buffer, big.buffer);
  assert.equal(second.byteOffset, 7);
  // Back to back after the inner header they are exactly encodeUsedEvent's payload.
  const joined = Buffer.concat([head, ...data]).subarray(VIOA_HEADER_SIZE);
  assert.deepEqual(new Uint8Array(joined), encodeUsedEvent(2, records));
  const ev = decodeUsedEvent(joined, { maxRecords: 64, maxSegments: 0 });
  assert.deepEqual(
    ev.records.map((r) => [r.head, r.data.length]),
    [
      [3, 3000],
      [4, 0],
      [6, 1],
    ],
  );
});

test("random bytes never make a decoder throw anything but VioaDecodeError (fuzz)", () => {
  const seed = propertySeed("virtio-argo decoders fuzz");
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.integer({ min: 0, max: 0x50 }),
      (bytes, id) => {
        for (const f of [
          () => decodeFrame(bytes),
          () => decodeControlRequest(id, bytes),
          () => decodeControlResponse(id, bytes),
          () => decodeAvailEvent(bytes, { maxRecords: 64, maxSegments: 256 }),
          () => decodeUsedEvent(bytes, { maxRecords: 64, maxSegments: 0 }),
        ]) {
          try {
            f();
          } catch (err) {
            assert.ok(err instanceof VioaDecodeError, String(err));
          }
        }
      },
    ),
    { seed, numRuns: 3000 },
  );
});

test("a chain cut into fragments gets fragments of nearly equal size, not full ones and a small tail", () => {
  const maxMessage = 262_032;
  const total = 16 + 1024 * 1024; // a 1 MiB virtio-blk write: header, then the data
  const chain = {
    head: 3,
    segments: [
      { addr: 0x10_0000, len: 16, writable: false },
      { addr: 0x20_0000, len: 1024 * 1024, writable: false },
      { addr: 0x40_0000, len: 1, writable: true },
    ],
  };
  const messages = packAvail([chain], maxMessage);
  const inline = messages.flatMap((m) => m.records.map((r) => r.inlineLen));
  assert.equal(inline.length, 5, "as many messages as full fragments would take");
  assert.equal(
    inline.reduce((a, b) => a + b, 0),
    total,
  );
  // Each carries ceil(total / 5) bytes but the last, which is short by less than 5.
  assert.ok(
    Math.max(...inline) - Math.min(...inline) < inline.length,
    `fragments ${inline.join(", ")}`,
  );
  assert.equal(fragmentCap(100, maxMessage, 3), Number.POSITIVE_INFINITY, "one message: no cap");
});

test("with the default blk ring a 1 MiB request crosses as one message each way (no fragments that wait for a drain)", () => {
  const maxMessage = maxMessageSize(VIRTIO_ARGO_BLK_RING_LEN);
  const mib = 1024 * 1024;
  const write = {
    head: 0,
    segments: [
      { addr: 0x10_0000, len: 16, writable: false },
      { addr: 0x20_0000, len: mib, writable: false },
      { addr: 0x40_0000, len: 1, writable: true },
    ],
  };
  const avail = packAvail([write], maxMessage);
  assert.equal(avail.length, 1, "the write's AVAIL");
  assert.deepEqual(
    avail[0]?.records.map((r) => [r.frag, r.last, r.inlineLen]),
    [[0, true, 16 + mib]],
  );
  // A 1 MiB read's completion: the data and the status byte, from the back end's staging.
  const used = packUsed(
    [{ head: 0, writtenLen: mib + 1, data: new Uint8Array(mib + 1) }],
    maxMessage,
  );
  assert.equal(used.length, 1, "the read's USED");
  assert.equal(used[0]?.length, 1);
});
