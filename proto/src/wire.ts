// SPDX-License-Identifier: Apache-2.0
/**
 * The protobuf wire pieces both hand-written Session codecs share (the guest's
 * `hypercall/session-frame-codec.ts`, the hypervisor's `grpc/session-codec.ts`): tags, the
 * "not in the canonical subset" signal that sends a frame back to proto-loader, bounded nested
 * fields, and u64 varints read and written without Long. Each codec reads by hand only what is
 * canonical and leaves everything else to proto-loader, so these helpers throw `NOT_CANONICAL`
 * rather than describe the problem: the caller's fallback decodes the frame, or reports it in
 * proto-loader's own words.
 */
import type protobuf from "protobufjs/minimal.js";

type Reader = protobuf.Reader;

export const WIRE_VARINT = 0;
export const WIRE_LEN = 2;

/** A field's tag (a single byte for fields 1..15). */
export const tag = (field: number, wire: number): number => (field << 3) | wire;

/**
 * Thrown inside a hand decoder when the bytes are not in its canonical subset; one instance,
 * so that leaving the fast path costs no stack capture.
 */
class NotCanonical extends Error {
  override readonly name = "NotCanonical";
}
export const NOT_CANONICAL: Error = new NotCanonical("not a canonical hot Session frame");

/** A tag's wire type must be the declared one, or the frame is not read by hand. */
export function expectWire(t: number, wire: number): void {
  if ((t & 7) !== wire) throw NOT_CANONICAL;
}

/** Reads a length prefix; the end of the length-delimited field, which must fit inside `end`. */
export function nestedEnd(r: Reader, end: number): number {
  const len = r.uint32();
  const inner = r.pos + len;
  if (inner > end) throw NOT_CANONICAL;
  return inner;
}

const TWO_32 = 2 ** 32;

/**
 * A u64 varint: its value as a number when it is at most 2^53 - 1 (no allocation), else what
 * `beyond(hi, lo)` makes of its two 32-bit halves (each side's codec has its own rule for
 * those: exact decimal text, or Infinity).
 */
export function readU64<T>(r: Reader, beyond: (hi: number, lo: number) => T): number | T {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.len) throw NOT_CANONICAL;
    const byte = r.buf[r.pos++] ?? 0; // in bounds: checked above
    const bits = byte & 0x7f;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= (bits & 0x0f) << 28;
      hi |= bits >>> 4;
    } else hi |= bits << (shift - 32);
    if ((byte & 0x80) === 0) {
      lo >>>= 0;
      hi >>>= 0;
      return hi < 0x200000 ? hi * TWO_32 + lo : beyond(hi, lo);
    }
    shift += 7;
  }
  throw NOT_CANONICAL;
}

export type U64In = string | number | protobuf.Long;

/**
 * A u64 given as checked decimal text (proto-loader's `longs: String`, wire-codec.ts's
 * `String(id)`) as the number protobufjs writes without Long; anything else (a Long, a value
 * beyond 2^53) is left to protobufjs's exact conversion.
 */
export function u64Value(value: U64In): U64In {
  if (typeof value !== "string") return value;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : value;
}
