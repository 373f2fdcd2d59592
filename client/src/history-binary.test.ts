// SPDX-License-Identifier: Apache-2.0
/**
 * The binary history decoder refuses what it cannot read, naming where and what, and yields no
 * event from such a frame (a truncated or damaged frame never becomes a wrong event).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeHistoryFrame, HistoryDecodeError } from "./history-binary.js";

/** A frame with one ReadMemory entry (seq 7 at 2026-12-04T00:00:00.000000001Z) and one JSON entry. */
function goodFrame(): Buffer {
  const read = Buffer.alloc(1 + 16 + 20);
  read[0] = 0x03;
  read.writeBigUInt64LE(7n, 1);
  read.writeBigUInt64LE(BigInt(Date.UTC(2026, 11, 4)) * 1_000_000n + 1n, 9);
  read.writeInt32LE(3, 17);
  read.writeInt32LE(0, 21);
  read.writeBigUInt64LE(2n ** 40n + 5n, 25);
  read.writeUInt32LE(64, 33);
  const line = Buffer.from(
    '{"seq":8,"time":"2026-12-04T00:00:00.000000002Z","kind":"virq","domid":3,"virq":1}',
  );
  const json = Buffer.alloc(5);
  json[0] = 0x05;
  json.writeUInt32LE(line.length, 1);
  return Buffer.concat([Buffer.from([0x48, 0x58, 0x42, 1]), read, json, line]);
}

test("a good frame decodes to its events, in order", () => {
  assert.deepEqual(decodeHistoryFrame(goodFrame()), [
    {
      seq: 7,
      time: "2026-12-04T00:00:00.000000001Z",
      kind: "hypercall",
      type: "ok",
      f: "readMemory",
      process: 3,
      ret: 0,
      value: { gpa: 2 ** 40 + 5, len: 64 },
    },
    { seq: 8, time: "2026-12-04T00:00:00.000000002Z", kind: "virq", domid: 3, virq: 1 },
  ]);
});

test("short, damaged or unknown-version frames are refused with the offset and value, never decoded", () => {
  const cases: [string, (f: Buffer) => Buffer, RegExp][] = [
    ["shorter than the magic", (f) => f.subarray(0, 2), /frame of 2 bytes/],
    [
      "wrong magic",
      (f) => Buffer.concat([Buffer.from("HXC"), f.subarray(3)]),
      /starts with 0x485843, not the magic/,
    ],
    [
      "unknown version",
      (f) => Buffer.concat([f.subarray(0, 3), Buffer.from([2]), f.subarray(4)]),
      /version 2 at offset 3/,
    ],
    [
      "truncated hot entry",
      (f) => f.subarray(0, 20),
      /entry at offset 4 \(tag 0x3\): needs 37 bytes, the frame has 16/,
    ],
    [
      "unknown tag",
      (f) => Buffer.concat([f.subarray(0, 41), Buffer.from([0x7f])]),
      /offset 41: unknown tag 0x7f/,
    ],
    [
      "truncated JSON",
      (f) => f.subarray(0, f.length - 1),
      /JSON entry at offset 41: says \d+ bytes, the frame has/,
    ],
    [
      "damaged JSON",
      (f) => {
        const g = Buffer.from(f);
        g[g.length - 1] = 0x2c;
        return g;
      },
      /JSON entry at offset 41: /,
    ],
  ];
  for (const [name, damage, message] of cases)
    assert.throws(
      () => decodeHistoryFrame(damage(goodFrame())),
      (err: unknown) => err instanceof HistoryDecodeError && message.test(err.message),
      name,
    );
});
