// SPDX-License-Identifier: Apache-2.0
/**
 * The history's payload digest: CRC-32 (IEEE 802.3, the one zlib, Python's `zlib.crc32` and Go's
 * `hash/crc32.ChecksumIEEE` compute) of the bytes, written `crc32:` and 8 lowercase hex digits.
 * It was the first 16 hex digits of SHA-256 until that was most of what recording a sendv cost
 * (docs/harness.md, Cost). The digest only has to tell an offline checker that the message read
 * out of a ring is the one sent into it, in an order the history already fixes, not resist an
 * adversary; 32 bits do that, every harness language has it built in, and node's zlib computes
 * it natively over each iov in turn, chaining, with no hash object per message (a short message's
 * is computed in JavaScript: ../crc32.ts). The prefix names
 * the algorithm, so a checker written for the old digest fails loudly instead of mismatching.
 */
import { crc32 } from "node:zlib";
import type { Iov } from "../argo/types.js";
import type { GuestMemory } from "../memory/guest-memory.js";
import { SHORT_CRC_BYTES, crc32Of, shortCrc32 } from "../crc32.js";

export const DIGEST_PREFIX = "crc32:";
/** Hex digits after the prefix. */
export const DIGEST_HEX = 8;
/** `payloadDigest`'s answer when some byte lies outside the sender's memory. */
export const NO_DIGEST = -1;

/** Payloads are gathered into this reused buffer (in chunks, past its size) and hashed. */
const SCRATCH_BYTES = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
/**
 * Views of scratch's first n bytes, made once per n up to `VIEWED`: zlib hashes a whole view,
 * and making one per message cost more than hashing a small message.
 */
const VIEWED = 4096;
const views: Buffer[] = [];

function scratchView(n: number): Buffer {
  if (n > VIEWED) return scratch.subarray(0, n);
  let view = views[n];
  if (view === undefined) {
    view = scratch.subarray(0, n);
    views[n] = view;
  }
  return view;
}

/**
 * The CRC-32 of the bytes `iovs` name in `memory` (the message as the sender gathered it), as an
 * unsigned 32-bit number, or `NO_DIGEST` when they are not all in its memory.
 */
export function payloadDigest(memory: GuestMemory, iovs: readonly Iov[]): number {
  for (const iov of iovs) if (!memory.contains(iov.gpa, iov.len)) return NO_DIGEST;
  let crc = 0;
  let at = 0;
  for (const iov of iovs) {
    for (let done = 0; done < iov.len;) {
      const n = Math.min(iov.len - done, SCRATCH_BYTES - at);
      memory.copyOut(iov.gpa + done, n, scratch, at);
      done += n;
      at += n;
      if (at === SCRATCH_BYTES) {
        crc = crc32(scratch, crc);
        at = 0;
      }
    }
  }
  if (at === 0) return crc;
  // A view made once per length, not crc32Of's subarray per message.
  return at <= SHORT_CRC_BYTES ? shortCrc32(scratch, 0, at, crc) : crc32(scratchView(at), crc);
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
