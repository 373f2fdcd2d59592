// SPDX-License-Identifier: Apache-2.0
/**
 * The envelope of every record a guest keeps in its own reserved pages (agent-state.ts,
 * workloads/checker-state.ts): magic u32, version u32, body length u32 and a 32-bit FNV-1a of
 * the body, all little-endian, then the body. A missing, foreign or damaged record must read
 * as none, never as state: a restarted agent then starts afresh instead of acting on garbage.
 */

/** The envelope's bytes in front of the body. */
export const SEALED_HEADER_BYTES = 16;

/** 32-bit FNV-1a: a foreign or damaged record must not read as state. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** `body` in its envelope. */
export function sealRecord(magic: number, version: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(SEALED_HEADER_BYTES + body.length);
  out.writeUInt32LE(magic, 0);
  out.writeUInt32LE(version, 4);
  out.writeUInt32LE(body.length, 8);
  out.writeUInt32LE(fnv1a(body), 12);
  body.copy(out, SEALED_HEADER_BYTES);
  return out;
}

/** The body of a sealed record, or undefined when it is missing, foreign or damaged. */
export function unsealRecord(magic: number, version: number, bytes: Buffer): Buffer | undefined {
  if (
    bytes.length < SEALED_HEADER_BYTES ||
    bytes.readUInt32LE(0) !== magic ||
    bytes.readUInt32LE(4) !== version
  )
    return undefined;
  const length = bytes.readUInt32LE(8);
  if (SEALED_HEADER_BYTES + length > bytes.length) return undefined;
  const body = bytes.subarray(SEALED_HEADER_BYTES, SEALED_HEADER_BYTES + length);
  return fnv1a(body) === bytes.readUInt32LE(12) ? body : undefined;
}
