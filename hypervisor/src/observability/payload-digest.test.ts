// SPDX-License-Identifier: Apache-2.0
/**
 * The history's payload digest is the standard CRC-32 (what a harness in any language gets from
 * its zlib) of the message as gathered from its iovs, however they split it and however long it
 * is (read in place page by page, unwritten pages as zeros), and nothing when a byte lies outside
 * the sender's memory. Randomised splits are bounded and print their seed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32 } from "node:zlib";
import type { Iov } from "../argo/types.js";
import { PAGE_SIZE } from "@hmx/proto/abi";
import { GuestMemory } from "../memory/guest-memory.js";
import { MemoryQuota } from "../memory/memory-quota.js";
import { NO_DIGEST, bytesDigest, dataDigest, digestText, payloadDigest } from "./payload-digest.js";
import { SHORT_CRC_BYTES, shortCrc32 } from "../crc32.js";

const seed = Number(process.env["HMX_TEST_SEED"] ?? Date.now() % 100000);
console.log(`seed ${seed}`);
let x = seed;
function random(limit: number): number {
  x = (x * 1103515245 + 12345) % 2147483648;
  return x % limit;
}

/**
 * Guest memory that holds `bytes` from gpa 0; the pages of `bytes` that are all zeros are left
 * unwritten (unmaterialised), as most of a guest's are.
 */
function memoryOf(bytes: Buffer): GuestMemory {
  const memory = new GuestMemory(bytes.length, new MemoryQuota(bytes.length));
  for (let at = 0; at < bytes.length; at += PAGE_SIZE) {
    const page = bytes.subarray(at, at + PAGE_SIZE);
    if (page.some((b) => b !== 0)) memory.write(at, page);
  }
  return memory;
}

test("the digest is the standard CRC-32, written crc32: and 8 lowercase hex digits", () => {
  // The check value every CRC-32 (IEEE 802.3) implementation publishes.
  assert.equal(bytesDigest(Buffer.from("123456789")), "crc32:cbf43926");
  assert.equal(bytesDigest(Buffer.alloc(0)), "crc32:00000000");
  assert.equal(digestText(0x1f), "crc32:0000001f", "leading zeros are kept");
  assert.equal(digestText(NO_DIGEST), "");
});

test("a sendv's digest covers its iovs in order, however split, across pages written or not", () => {
  const bytes = Buffer.alloc(200 * 1024);
  // Every fourth page stays zero, and so unwritten: the digest reads it as zeros.
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i >> 12) % 4 === 3 ? 0 : random(256);
  const memory = memoryOf(bytes);
  for (let n = 0; n < 200; n++) {
    const iovs: Iov[] = [];
    const gathered: Buffer[] = [];
    for (let k = random(4); k >= 0; k--) {
      const len = random(8) === 0 ? random(80 * 1024) : random(300);
      const gpa = random(bytes.length - len);
      iovs.push({ gpa, len });
      gathered.push(bytes.subarray(gpa, gpa + len));
    }
    assert.equal(
      payloadDigest(memory, iovs),
      crc32(Buffer.concat(gathered)),
      `seed ${seed}, case ${n}: ${JSON.stringify(iovs)}`,
    );
  }
});

test("a payload not wholly in the sender's memory has no digest", () => {
  const memory = memoryOf(Buffer.alloc(PAGE_SIZE, 1));
  const iovs = [
    { gpa: 0, len: 64 },
    { gpa: 4090, len: 64 },
  ] as Iov[];
  assert.equal(payloadDigest(memory, iovs), NO_DIGEST);
});

test("the short-input CRC-32 equals zlib's for every length it takes, chained from any value", () => {
  const bytes = Buffer.alloc(SHORT_CRC_BYTES + 16);
  for (let n = 0; n < 20; n++) {
    for (let i = 0; i < bytes.length; i++) bytes[i] = random(256);
    const start = random(2) === 0 ? 0 : random(2 ** 31) * 2 + random(2);
    for (let len = 0; len <= bytes.length; len++) {
      const view = bytes.subarray(0, len);
      assert.equal(
        shortCrc32(bytes, 0, len, start),
        crc32(view, start),
        `seed ${seed}, len ${len}`,
      );
      assert.equal(dataDigest(view), crc32(view), `seed ${seed}, len ${len}`);
    }
  }
});
