// SPDX-License-Identifier: Apache-2.0
/**
 * The benchmark's message format, the same for the hmx path and the baseline: a u32 sequence
 * number, a u32 phase tag (random per phase, so a late message of an earlier phase can never
 * be counted in the next one), the send time as a float64 of milliseconds since the epoch
 * (`performance.timeOrigin + performance.now()`, comparable across processes on one machine),
 * then filler up to the payload size. The smallest payload measured (64 B) has room for it.
 */
import { performance } from "node:perf_hooks";

/** Bytes of the header: seq, tag, send time. */
export const PAYLOAD_HEADER_SIZE = 16;

/** Wall-clock milliseconds with sub-microsecond resolution, comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A filled payload of `size` bytes to copy messages from (filler is a fixed pattern). */
export function payloadTemplate(size: number): Buffer {
  if (!Number.isInteger(size) || size < PAYLOAD_HEADER_SIZE) {
    throw new RangeError(`payload size ${size} is below the ${PAYLOAD_HEADER_SIZE}-byte header`);
  }
  const buf = Buffer.alloc(size);
  for (let i = PAYLOAD_HEADER_SIZE; i < size; i++) buf[i] = i & 0xff;
  return buf;
}

/** A new message: a copy of `template` stamped with `seq`, `tag` and the current time. */
export function stampPayload(template: Buffer, seq: number, tag: number): Buffer {
  const buf = Buffer.allocUnsafe(template.length);
  template.copy(buf, PAYLOAD_HEADER_SIZE, PAYLOAD_HEADER_SIZE);
  buf.writeUInt32LE(seq >>> 0, 0);
  buf.writeUInt32LE(tag >>> 0, 4);
  buf.writeDoubleLE(now(), 8);
  return buf;
}

/** The header of a received message; null when it is too short to carry one. */
export function readPayload(data: Uint8Array): { seq: number; tag: number; sentAt: number } | null {
  if (data.length < PAYLOAD_HEADER_SIZE) return null;
  const view = new DataView(data.buffer, data.byteOffset, PAYLOAD_HEADER_SIZE);
  return {
    seq: view.getUint32(0, true),
    tag: view.getUint32(4, true),
    sentAt: view.getFloat64(8, true),
  };
}
