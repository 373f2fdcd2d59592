// SPDX-License-Identifier: Apache-2.0
/** The workloads' progress records (checker-state.ts): round trip, and anything damaged reads as none. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decodeReceiveProgress,
  decodeSendProgress,
  encodeReceiveProgress,
  encodeSendProgress,
  MAX_RECORDED_STREAMS,
  type ReceiveProgress,
} from "./checker-state.js";

const progress: ReceiveProgress = {
  aport: 9,
  partner: 0x7ff4,
  rxPtr: 4032,
  counters: {
    received: 2 ** 40 + 3,
    bytes: 77,
    gaps: 1,
    lost: 2,
    duplicates: 0,
    reordered: 0,
    malformed: 4,
  },
  streams: [
    { domid: 3, aport: 0x80000001, tag: 0xffffffff, next: 2 ** 33 },
    { domid: 4, aport: 9, tag: 0, next: 0 },
  ],
};

describe("receive progress record", () => {
  test("a record round-trips, counters above 2^32 included", () => {
    assert.deepEqual(decodeReceiveProgress(encodeReceiveProgress(progress)), progress);
  });

  test("a record costs 16 + 72 + 24 bytes per stream (what rides with each rx store)", () => {
    assert.equal(encodeReceiveProgress(progress).length, 16 + 72 + 24 * 2);
  });

  test("zeroed memory (a first start) reads as no record", () => {
    assert.equal(decodeReceiveProgress(Buffer.alloc(4096)), undefined);
  });

  test("a record whose body was altered fails its checksum and reads as none", () => {
    const bytes = encodeReceiveProgress(progress);
    bytes.writeUInt8(bytes.readUInt8(40) ^ 0x10, 40);
    assert.equal(decodeReceiveProgress(bytes), undefined);
  });

  test("a send record is not read as a receive record", () => {
    const send = encodeSendProgress({ tag: 1, peer: 2, port: 9, acceptedAtLeast: 5 });
    assert.equal(decodeReceiveProgress(send), undefined);
  });

  test(`only the last ${MAX_RECORDED_STREAMS} streams are kept, the most recently started`, () => {
    const streams = Array.from({ length: MAX_RECORDED_STREAMS + 5 }, (_, i) => ({
      domid: 1,
      aport: 9,
      tag: i,
      next: 1,
    }));
    const back = decodeReceiveProgress(encodeReceiveProgress({ ...progress, streams }));
    assert.equal(back?.streams.length, MAX_RECORDED_STREAMS);
    assert.equal(back.streams.at(0)?.tag, 5, "the first 5 streams were dropped");
  });
});

describe("send progress record", () => {
  test("a record round-trips", () => {
    const p = { tag: 0xfffffffe, peer: 2, port: 9, acceptedAtLeast: 123_456 };
    assert.deepEqual(decodeSendProgress(encodeSendProgress(p)), p);
  });

  test("a record whose body was altered reads as none", () => {
    const bytes = encodeSendProgress({ tag: 1, peer: 2, port: 9, acceptedAtLeast: 5 });
    bytes.writeUInt8(bytes.readUInt8(20) ^ 1, 20);
    assert.equal(decodeSendProgress(bytes), undefined);
  });
});
