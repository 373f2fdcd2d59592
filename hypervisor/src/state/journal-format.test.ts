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
  readJournal,
} from "./journal-format.js";
import { CallStatusCode } from "../dispatch/hypercall.js";
import { decodeRecord, encodeRecord, type StateRecord } from "./state-records.js";

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
    /format version 7, but this hypervisor reads version 1 and 2/,
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
