// SPDX-License-Identifier: Apache-2.0
/**
 * The guest's VARG table reader against the toolstack's writer, and against hostile tables:
 * every check of docs/virtio-argo.md "Discovery" has a test named after it, and random
 * corruption never throws (seeded, replay with HMX_TEST_SEED).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { encodeVargTable, type VargEntry } from "@hmx/hypervisor";
import {
  VARG_CHECKSUM_OFFSET,
  VARG_ENTRY_COUNT_OFFSET,
  VARG_HEADER_SIZE,
  VARG_LENGTH_OFFSET,
  VARG_ENT_NAME,
  VARG_ENT_ROLE,
  VARG_ENT_RING_LEN,
  VargRole,
} from "@hmx/proto/abi";
import { propertySeed } from "@hmx/virtio/test-utils";
import { isEmptyTable, parseVargTable, type VargReadResult } from "./varg-reader.js";

const entry = (over: Partial<VargEntry> = {}): VargEntry => ({
  devIndex: 0,
  role: VargRole.frontend,
  flags: 0,
  deviceId: 2,
  peerDomid: 2,
  bePort: 0x1002,
  fePort: 0x2002,
  numQueues: 1,
  queueSizeMax: 256,
  configSize: 72,
  ringLen: 262064,
  capacitySectors: 8192n,
  mac: new Uint8Array(6),
  name: "vd0",
  option: "",
  ...over,
});

/** Re-seals a table after a deliberate edit, so only the edited rule is broken. */
function reseal(t: Buffer): Buffer {
  const len = Math.min(t.readUInt32LE(VARG_LENGTH_OFFSET), t.length);
  t[VARG_CHECKSUM_OFFSET] = 0;
  let sum = 0;
  for (let i = 0; i < len; i++) sum = (sum + (t[i] ?? 0)) & 0xff;
  t[VARG_CHECKSUM_OFFSET] = (0x100 - sum) & 0xff;
  return t;
}

function reasonOf(r: VargReadResult): string {
  return r.ok ? "" : r.reason;
}

test("a table written by the toolstack reads back entry for entry", () => {
  const t = encodeVargTable({ domid: 5, generation: 7 }, [
    entry(),
    entry({
      devIndex: 1,
      deviceId: 1,
      bePort: 0x1101,
      fePort: 0x2101,
      mac: Uint8Array.of(0x52, 0x54, 0, 0, 5, 0),
      name: "eth0",
      numQueues: 2,
    }),
  ]);
  const r = parseVargTable(t, 5);
  if (!r.ok) throw new Error(r.reason);
  assert.equal(r.table.generation, 7);
  assert.equal(r.table.devices.length, 2);
  const [d0, d1] = r.table.devices;
  assert.ok(d0 !== undefined && d1 !== undefined);
  assert.equal(d0.capacitySectors, 8192n);
  assert.equal(d1.mac, "52:54:00:00:05:00");
  assert.equal(d1.name, "eth0");
});

test("an all-zero gfn 0 is no table, not a corrupt one", () => {
  assert.equal(isEmptyTable(new Uint8Array(4096)), true);
});

test("a table whose bytes do not sum to 0 mod 256 is refused (checksum)", () => {
  const t = encodeVargTable({ domid: 5, generation: 1 }, [entry()]);
  t[VARG_HEADER_SIZE + 30] = (t[VARG_HEADER_SIZE + 30] ?? 0) ^ 1;
  const r = parseVargTable(t, 5);
  assert.equal(r.ok, false);
  assert.match(reasonOf(r), /checksum/);
});

test("a length beyond the page or inconsistent with the entry count is refused (bounds)", () => {
  const t = encodeVargTable({ domid: 5, generation: 1 }, [entry()]);
  t.writeUInt32LE(8192, VARG_LENGTH_OFFSET);
  const long = parseVargTable(reseal(t), 5);
  assert.equal(long.ok, false);
  assert.match(reasonOf(long), /length/);
  const u = encodeVargTable({ domid: 5, generation: 1 }, [entry()]);
  u.writeUInt16LE(2, VARG_ENTRY_COUNT_OFFSET);
  const r = parseVargTable(reseal(u), 5);
  assert.equal(r.ok, false);
  assert.match(reasonOf(r), /entries/);
});

test("a wrong signature, another domain's table, an unknown role, an unterminated name or a bad ring length is refused", () => {
  const cases: [string, (t: Buffer) => void, number][] = [
    ["signature", (t) => t.write("XXXX", 0, "latin1"), 5],
    ["another domain", () => undefined, 6],
    ["role", (t) => t.writeUInt8(9, VARG_HEADER_SIZE + VARG_ENT_ROLE), 5],
    [
      "NUL-terminated",
      (t) => t.fill(0x41, VARG_HEADER_SIZE + VARG_ENT_NAME, VARG_HEADER_SIZE + VARG_ENT_NAME + 32),
      5,
    ],
    ["ring len", (t) => t.writeUInt32LE(17, VARG_HEADER_SIZE + VARG_ENT_RING_LEN), 5],
  ];
  for (const [what, edit, domid] of cases) {
    const t = encodeVargTable({ domid: 5, generation: 1 }, [entry()]);
    edit(t);
    assert.equal(parseVargTable(reseal(t), domid).ok, false, what);
  }
});

test("random corruption of a table never makes the reader throw (fuzz)", () => {
  const seed = propertySeed("varg-reader fuzz");
  const base = encodeVargTable({ domid: 5, generation: 1 }, [entry(), entry({ devIndex: 1 })]);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(400), fc.nat(255)), { minLength: 1, maxLength: 12 }),
      fc.boolean(),
      (edits, fix) => {
        const t = Buffer.from(base);
        for (const [at, b] of edits) t[at] = b;
        if (fix) reseal(t);
        const r = parseVargTable(t, 5);
        if (r.ok) assert.ok(r.table.devices.length <= 2);
      },
    ),
    { seed, numRuns: 2000 },
  );
});
