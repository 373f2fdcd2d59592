// SPDX-License-Identifier: Apache-2.0
/** The state journal's file format: framing, torn tails, damage, foreign files, versions. */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  FILE_HEADER_BYTES,
  RECORD_HEADER_BYTES,
  StateFormatError,
  fileHeader,
  frameRecord,
  payloadCrc,
  readJournal,
} from "./journal-format.js";
import { crc32 } from "node:zlib";
import { CallStatusCode } from "../dispatch/hypercall.js";
import {
  decodeRecord,
  encodeRecord,
  inPlaceRecordBytes,
  writeRecordInto,
  type StateRecord,
} from "./state-records.js";

const FILE = "/state/journal.hmx";

function journalOf(...payloads: Buffer[]): Buffer {
  return Buffer.concat([fileHeader(), ...payloads.map(frameRecord)]);
}

const A = Buffer.from("first record");
const B = Buffer.from("second, longer record");
const C = Buffer.from("third");

test("records round-trip through the journal in order, with their offsets", () => {
  const contents = readJournal(FILE, journalOf(A, B, C));
  assert.deepEqual(
    contents.records.map((r) => r.payload.toString()),
    [A, B, C].map(String),
  );
  assert.equal(contents.records[0]?.offset, FILE_HEADER_BYTES);
  assert.equal(contents.records[1]?.offset, FILE_HEADER_BYTES + RECORD_HEADER_BYTES + A.length);
  assert.equal(contents.tornBytes, 0);
});

test("a journal cut anywhere inside its last record yields the records before it (torn tail)", () => {
  const whole = journalOf(A, B, C);
  const lastStart = whole.length - RECORD_HEADER_BYTES - C.length;
  for (let cut = lastStart + 1; cut < whole.length; cut++) {
    const contents = readJournal(FILE, whole.subarray(0, cut));
    assert.equal(contents.records.length, 2, `cut at ${cut}`);
    assert.equal(contents.validBytes, lastStart);
    assert.equal(contents.tornBytes, cut - lastStart);
  }
});

test("a last record whose payload fails its CRC is a torn tail, not damage", () => {
  const bytes = journalOf(A, B, C);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
  assert.equal(readJournal(FILE, bytes).records.length, 2);
});

test("a flipped byte in any record before the last is damage, named by file and offset", () => {
  const clean = journalOf(A, B, C);
  const lastStart = clean.length - RECORD_HEADER_BYTES - C.length;
  const secondStart = FILE_HEADER_BYTES + RECORD_HEADER_BYTES + A.length;
  for (let at = FILE_HEADER_BYTES; at < lastStart; at++) {
    const bytes = Buffer.from(clean);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
    const recordStart = at < secondStart ? FILE_HEADER_BYTES : secondStart;
    assert.throws(
      () => readJournal(FILE, bytes),
      (err: unknown) =>
        err instanceof StateFormatError &&
        err.offset === recordStart &&
        err.message.includes(FILE) &&
        err.message.includes(`offset ${recordStart}`),
      `flip at ${at}`,
    );
  }
});

test("a file without the HMXSTATE magic is refused as foreign", () => {
  const bytes = Buffer.from("SQLite format 3\0 and so on and so forth");
  assert.throws(() => readJournal(FILE, bytes), /not an hmx state journal.*offset|offset 0/);
  assert.throws(() => readJournal(FILE, Buffer.alloc(0)), StateFormatError);
});

test("a journal of another format version is refused, naming both versions", () => {
  const bytes = journalOf(A);
  bytes.writeUInt32LE(7, 8);
  assert.throws(
    () => readJournal(FILE, bytes),
    /format version 7, but this hypervisor reads version 1 and 2 and 3/,
  );
});

test("state records round-trip, keeping Infinity, WriteMemory bytes, device specs and enrolment digests exact", () => {
  const records: StateRecord[] = [
    {
      kind: "domain-created",
      domid: 3,
      name: "vm3",
      label: "x_t",
      memoryBytes: 65536,
      privileged: true,
      digest: "ab".repeat(32),
    },
    { kind: "credential", domid: 3, digest: "cd".repeat(32) },
    { kind: "domain-destroyed", domid: 3 },
    {
      kind: "hypercall",
      domid: 2,
      requestId: 2 ** 40,
      call: { op: "writeMemory", gpa: 69632, data: Buffer.from([0, 1, 2, 255]) },
    },
    {
      kind: "hypercall",
      domid: 2,
      requestId: 0,
      call: {
        op: "sendv",
        args: {
          src: { domainId: 0x7ff4, aport: 1 },
          dst: { domainId: 1, aport: 9 },
          iovs: [{ gpa: Infinity, len: 4 }],
          messageType: 0,
        },
      },
    },
    {
      kind: "device",
      change: {
        kind: "attached",
        frontendDomid: 2,
        specs: [
          {
            type: 2,
            backendDomid: 3,
            name: "vd0",
            capacityBytes: 16 * 1024 * 1024,
            readOnly: false,
            imagePath: "vm2-vd0.img",
            mac: "52:54:00:00:02:00",
            queueSize: 256,
            ringLen: 65536,
          },
        ],
      },
    },
    { kind: "device", change: { kind: "detached", frontendDomid: 2, devIndex: 0 } },
    { kind: "enrolled", domid: 4, template: "guest", secretDigest: "ef".repeat(32) },
    {
      kind: "answered",
      domid: 2,
      requestId: 12,
      result: { op: "status", code: CallStatusCode.ABORTED, message: "skipped" },
    },
  ];
  for (const record of records) {
    assert.deepEqual(decodeRecord(encodeRecord(record)), record);
  }
});

test("payloadCrc gives zlib's CRC-32 for every length, short (JavaScript) and long (zlib)", () => {
  const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 0xff));
  for (let length = 0; length <= 130; length++) {
    for (const start of [0, 3]) {
      const end = start + length;
      assert.equal(
        payloadCrc(bytes, start, end),
        crc32(bytes.subarray(start, end)),
        `${start}+${length}`,
      );
    }
  }
});

test("the hot records are binary (no JSON) and round-trip, written in place or as their own Buffer", () => {
  const sendv: StateRecord = {
    kind: "hypercall",
    domid: 5,
    requestId: 77,
    call: {
      op: "sendv",
      args: {
        src: { domainId: 5, aport: 2 },
        dst: { domainId: 6, aport: 0xffffffff },
        iovs: [
          { gpa: 65536, len: 64 },
          { gpa: Infinity, len: 0 },
        ],
        messageType: 3,
      },
    },
  };
  const hot: StateRecord[] = [
    sendv,
    { kind: "acknowledged", domid: 5, ackThrough: 2 ** 40 },
    {
      kind: "hypercall",
      domid: 5,
      requestId: 1,
      call: { op: "readMemory", gpa: 4096, length: 256 },
    },
  ];
  for (const record of hot) {
    const bytes = inPlaceRecordBytes(record);
    assert.notEqual(bytes, undefined, record.kind);
    const target = Buffer.alloc((bytes ?? 0) + 3, 0xee);
    writeRecordInto(target, 3, record);
    const payload = target.subarray(3);
    assert.equal(payload.includes("{"), false, `${record.kind} is not JSON`);
    assert.deepEqual(decodeRecord(payload), record);
    assert.deepEqual(encodeRecord(record), payload);
  }
});

test("a Sendv with a field that is not a number keeps the JSON body, which round-trips it exactly", () => {
  const record = {
    kind: "hypercall",
    domid: 5,
    requestId: 0,
    call: {
      op: "sendv",
      args: { src: { domainId: 5, aport: 2 }, dst: { domainId: 6 }, iovs: [], messageType: 0 },
    },
  } as unknown as StateRecord;
  assert.equal(inPlaceRecordBytes(record), undefined);
  assert.deepEqual(decodeRecord(encodeRecord(record)), record);
});

test("a version-2 journal's JSON acknowledgement (kind 6) is still read", () => {
  const v2 = Buffer.concat([
    Buffer.of(6),
    Buffer.from('{"kind":"acknowledged","domid":3,"ackThrough":9}'),
  ]);
  assert.deepEqual(decodeRecord(v2), { kind: "acknowledged", domid: 3, ackThrough: 9 });
  const journal = Buffer.concat([fileHeader(0, undefined, 2), frameRecord(v2)]);
  assert.equal(readJournal(FILE, journal).records.length, 1);
});
