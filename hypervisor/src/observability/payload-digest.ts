// SPDX-License-Identifier: Apache-2.0
/**
 * The history's payload digest: CRC-32 (IEEE 802.3, the one zlib, Python's `zlib.crc32` and Go's
 * `hash/crc32.ChecksumIEEE` compute) of the bytes, written `crc32:` and 8 lowercase hex digits.
 * It was the first 16 hex digits of SHA-256 until that was most of what recording a sendv cost
 * (docs/harness.md, Cost). The digest only has to tell an offline checker that the message read
 * out of a ring is the one sent into it, in an order the history already fixes, not resist an
 * adversary; 32 bits do that, and every harness language has it built in. It is computed straight
 * from the sender's pages (GuestMemory.crc32), chaining over the iovs with no hash object and no
 * copy of the payload: a short run in JavaScript, a long one through node's zlib (../crc32.ts).
 * The prefix names the algorithm, so a checker written for the old digest fails loudly instead of mismatching.
 */
import type { Iov } from "../argo/types.js";
import type { GuestMemory } from "../memory/guest-memory.js";
import { crc32Of } from "../crc32.js";

export const DIGEST_PREFIX = "crc32:";
/** Hex digits after the prefix. */
export const DIGEST_HEX = 8;
/** `payloadDigest`'s answer when some byte lies outside the sender's memory. */
export const NO_DIGEST = -1;

/**
 * The CRC-32 of the bytes `iovs` name in `memory` (the message as the sender gathered it), as an
 * unsigned 32-bit number, or `NO_DIGEST` when they are not all in its memory. Computed in place
 * over the sender's pages, chained from iov to iov: no copy of the payload.
 */
export function payloadDigest(memory: GuestMemory, iovs: readonly Iov[]): number {
  for (const iov of iovs) if (!memory.contains(iov.gpa, iov.len)) return NO_DIGEST;
  let crc = 0;
  for (const iov of iovs) crc = memory.crc32(iov.gpa, iov.len, crc);
  return crc;
}

/** The digest as the history writes it: `crc32:` and 8 hex digits, or "" for `NO_DIGEST`. */
export function digestText(digest: number): string {
  return digest === NO_DIGEST ? "" : DIGEST_PREFIX + digest.toString(16).padStart(DIGEST_HEX, "0");
}

/** The CRC-32 of bytes in hand (a WriteMemory's data). */
export function dataDigest(bytes: Uint8Array): number {
  return crc32Of(bytes, 0, bytes.length);
}

/** `dataDigest` as the history writes it. */
export function bytesDigest(bytes: Uint8Array): string {
  return digestText(dataDigest(bytes));
}
