// SPDX-License-Identifier: Apache-2.0
/** The workloads' progress records (checker-state.ts): round trip, and anything damaged reads as none. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sealRecord } from "../libargo/sealed-record.js";
import {
  decodePingProgress,
  decodeReceiveProgress,
  decodeSendProgress,
  encodePingProgress,
  encodeReceiveProgress,
  encodeSendProgress,
  MAX_RECORDED_STREAMS,
  PING_ACCEPTED,
  type PingProgress,
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

describe("ping progress record", () => {
  const ping: PingProgress = {
    tag: 0xfffffff0,
    peer: 3,
    port: 7,
    aport: 0x80000123,
    rxPtr: 4064,
    outstanding: PING_ACCEPTED,
    answered: 0xfffffffe,
    counters: {
      next: 2 ** 40,
      sent: 2 ** 40,
      received: 2 ** 40 - 1,
      lost: 0,
      late: 2,
      redelivered: 3,
      resent: 4,
      errors: 1,
      bytes: 5 * 2 ** 40,
    },
  };

  test("a record round-trips, counters above 2^32 and a full answered mask included", () => {
    assert.deepEqual(decodePingProgress(encodePingProgress(ping)), ping);
  });

  test("a record costs 16 + 104 bytes (what rides with each of the pinger's rx stores)", () => {
    assert.equal(encodePingProgress(ping).length, 16 + 104);
  });

  test("a record whose body was altered, or a receive record, reads as none", () => {
    const bytes = encodePingProgress(ping);
    bytes.writeUInt8(bytes.readUInt8(30) ^ 4, 30);
    assert.equal(decodePingProgress(bytes), undefined);
    assert.equal(decodePingProgress(encodeReceiveProgress(progress)), undefined);
    assert.equal(decodeReceiveProgress(encodePingProgress(ping)), undefined);
  });

  test("a sealed record with an unknown outstanding state or a negative counter reads as none", () => {
    // Sealed correctly (the checksum holds), but not a state a pinger writes.
    const body = encodePingProgress(ping).subarray(16);
    const bad = Buffer.from(body);
    bad.writeUInt32LE(3, 20);
    const magic = encodePingProgress(ping).readUInt32LE(0);
    assert.equal(decodePingProgress(sealRecord(magic, 1, bad)), undefined);
    const negative = Buffer.from(body);
    negative.writeDoubleLE(-1, 32 + 8 * 3);
    assert.equal(decodePingProgress(sealRecord(magic, 1, negative)), undefined);
    assert.deepEqual(decodePingProgress(sealRecord(magic, 1, Buffer.from(body))), ping);
  });
});
