// SPDX-License-Identifier: Apache-2.0
/**
 * Protobuf wire bytes written in two passes, sizes first, then straight into one Buffer of
 * exactly that size: the writer both hand-written Session codecs use for the frames every
 * message crosses (the guest's batches, the hypervisor's results).
 *
 * protobufjs's `Writer` allocates an operation object for every field it is given and a state
 * object for every nested message (`fork`/`ldelim`), then walks that list once more in
 * `finish()`: for a 64-message batch of sendvs that was ~1,100 short-lived objects per frame and
 * most of the sender's garbage. Here a codec computes each nested message's size with the
 * `*Size` functions, writes its length prefix, then its fields; nothing is allocated but the
 * frame's Buffer. The bytes are those protobufjs writes for the same calls: u32 fields are
 * taken `>>> 0`, u64s of any form (number, decimal string, Long) go through protobufjs's own
 * `LongBits` unless they are safe integers, `bytes` given as a string are base64 as protobufjs
 * reads them, and strings are encoded by protobufjs's UTF-8 encoder.
 */
import protobuf from "protobufjs/minimal.js";
import { preframedBuffer } from "./grpc-preframed.js";
import { WIRE_VARINT, type U64In } from "./wire.js";

/** Bytes of the varint of `value >>> 0`. */
export function varint32Size(value: number): number {
  const v = value >>> 0;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** A u64 as protobufjs takes it: a safe non-negative integer as is, anything else as LongBits. */
function u64Bits(value: U64In): number | protobuf.util.LongBits {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  return protobuf.util.LongBits.from(value);
}

/** Bytes of a u64 varint. */
export function u64Size(value: U64In): number {
  const v = u64Bits(value);
  if (typeof v !== "number") return v.length();
  let n = 1;
  for (let rest = v; rest >= 0x80; rest = Math.floor(rest / 0x80)) n++;
  return n;
}

/** Bytes of a sint32 varint (zigzag). */
export function sint32Size(value: number): number {
  return varint32Size(((value << 1) ^ (value >> 31)) >>> 0);
}

/** A `bytes` field's content as protobufjs writes it: a base64 string decoded, else as is. */
export function bytesContent(data: Uint8Array | string): Uint8Array {
  if (typeof data !== "string") return data;
  const out = new Uint8Array(protobuf.util.base64.length(data));
  protobuf.util.base64.decode(data, out, 0);
  return out;
}

/** Bytes of a u32 field, tag included; 0 for zero or absent, which proto3 leaves out. */
export function u32FieldSize(value: number | null | undefined): number {
  return value ? 1 + varint32Size(value) : 0;
}

/** Bytes of a length-delimited field's content plus its length prefix (the tag not included). */
export function delimitedSize(contentBytes: number): number {
  return varint32Size(contentBytes) + contentBytes;
}

/** Bytes of a string's UTF-8 encoding, by protobufjs's encoder. */
export function utf8Size(text: string): number {
  return protobuf.util.utf8.length(text);
}

/**
 * A frame being written into a Buffer of its exact size (see the module comment), with room for
 * grpc-js to write the gRPC length prefix in front of it rather than copy it (grpc-preframed.ts).
 */
export class WireBytes {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = preframedBuffer(size);
  }

  /** The written bytes; the sizes the codec computed must have matched what it wrote. */
  finish(): Buffer {
    if (this.pos !== this.buf.length) {
      throw new Error(`wire writer: wrote ${this.pos} bytes into a frame sized ${this.buf.length}`);
    }
    return this.buf;
  }

  /** A varint of `value >>> 0` (tags, lengths, u32 fields). */
  uint32(value: number): void {
    let v = value >>> 0;
    const { buf } = this;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  sint32(value: number): void {
    this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  u64(value: U64In): void {
    const v = u64Bits(value);
    const { buf } = this;
    if (typeof v === "number") {
      let rest = v;
      while (rest >= 0x80) {
        buf[this.pos++] = (rest % 0x80) | 0x80;
        rest = Math.floor(rest / 0x80);
      }
      buf[this.pos++] = rest;
      return;
    }
    // protobufjs's writeVarint64, on the two 32-bit halves.
    let lo = v.lo >>> 0;
    let hi = v.hi >>> 0;
    while (hi !== 0) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.uint32(lo);
  }

  /** Field `field` (1–15) as a u32 varint, unless `value` is zero or absent (`u32FieldSize`). */
  u32Field(field: number, value: number | null | undefined): void {
    if (value) {
      this.uint32((field << 3) | WIRE_VARINT);
      this.uint32(value);
    }
  }

  /** A length prefix and `data` (a `bytes` field's content, after `bytesContent`). */
  bytes(data: Uint8Array): void {
    this.uint32(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /**
   * A length prefix and `length` bytes written in place by `fill` at `buf[offset, offset +
   * length)`: for bytes that would otherwise be copied out of where they live first.
   */
  bytesInPlace(length: number, fill: (buf: Buffer, offset: number) => void): void {
    this.uint32(length);
    fill(this.buf, this.pos);
    this.pos += length;
  }

  /** A length prefix and the UTF-8 of `text` (`byteLength` from `utf8Size`). */
  string(text: string, byteLength: number): void {
    this.uint32(byteLength);
    protobuf.util.utf8.write(text, this.buf, this.pos);
    this.pos += byteLength;
  }
}
