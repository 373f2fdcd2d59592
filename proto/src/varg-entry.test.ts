// SPDX-License-Identifier: Apache-2.0
/**
 * The VARG entry's integer fields (abi.ts `VARG_ENTRY_INTS`), shared by the toolstack's writer
 * and the guest's reader: each reads back what was written, and each lands at its documented
 * offset with its documented width, little-endian.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  VARG_ENT_CAPACITY_SECTORS,
  VARG_ENT_DEV_INDEX,
  VARG_ENT_PEER_DOMID,
  VARG_ENT_RING_LEN,
  VARG_ENT_ROLE,
  VARG_ENTRY_SIZE,
  readVargEntryInts,
  writeVargEntryInts,
  type VargEntryInts,
} from "./abi.js";

const ENTRY: VargEntryInts = {
  devIndex: 0x1234,
  role: 2,
  flags: 1,
  deviceId: 0x01020304,
  vendorId: 0x00584d48,
  peerDomid: 0x7fef,
  bePort: 0xf0000001,
  fePort: 0x80000002,
  numQueues: 3,
  queueSizeMax: 256,
  configSize: 60,
  ringLen: 0xffffc0,
  capacitySectors: 0x1_0000_0001n,
};

describe("VARG entry integer fields", () => {
  it("every field reads back what was written", () => {
    const table = new Uint8Array(8 + VARG_ENTRY_SIZE);
    writeVargEntryInts(table, 8, ENTRY);
    assert.deepEqual(readVargEntryInts(table, 8), ENTRY);
  });

  it("fields sit at their documented offsets, little-endian, and nothing else is written", () => {
    const table = Buffer.alloc(VARG_ENTRY_SIZE);
    writeVargEntryInts(table, 0, ENTRY);
    assert.equal(table.readUInt16LE(VARG_ENT_DEV_INDEX), 0x1234);
    assert.equal(table.readUInt8(VARG_ENT_ROLE), 2);
    assert.equal(table.readUInt16LE(VARG_ENT_PEER_DOMID), 0x7fef);
    assert.equal(table.readUInt32LE(VARG_ENT_RING_LEN), 0xffffc0);
    assert.equal(table.readBigUInt64LE(VARG_ENT_CAPACITY_SECTORS), 0x1_0000_0001n);
    // The MAC, name and option (from byte 48 on) are the callers'.
    assert.ok(table.subarray(48).every((b) => b === 0));
  });
});
