// SPDX-License-Identifier: Apache-2.0
/**
 * A successful sendv as a fixed-size binary record in the history's byte ring, turned into its
 * JSON line only when a subscriber or the file takes it. Successful sendvs are nearly every
 * hypercall of a busy run, and building each one's line at record time (a string, its time
 * formatted, then UTF-8 into the ring) cost more than the hypercall itself; the record is a few
 * stores through typed-array views (records sit at 8-byte-aligned offsets for that), and the
 * line is written as ASCII straight into the subscriber's outgoing frame, with no intermediate
 * string or copy. The line is exactly what the text path would write (the history test compares
 * them).
 */
import { DIGEST_HEX, DIGEST_PREFIX, NO_DIGEST } from "./payload-digest.js";
import type { Rfc3339Clock } from "./rfc3339-clock.js";

/** Bytes of one record in the ring (a multiple of 8: the time is a double). */
export const SENDV_RECORD_BYTES = 48;
/** Records start at offsets that are multiples of this. */
export const SENDV_RECORD_ALIGN = 8;

/** 32-bit word indexes from a record's start: [0, 1] hold the monotonic time in ms. */
const W_PROCESS = 2;
const W_RET = 3;
const W_SRC_DOMID = 4;
const W_SRC_APORT = 5;
const W_DST_DOMID = 6;
const W_DST_APORT = 7;
const W_MESSAGE_TYPE = 8;
const W_LEN = 9;
const W_HAS_DIGEST = 10;
const W_DIGEST = 11;
/** Words that, when equal, render the same text between the time and the digest. */
const MIDDLE_WORDS = W_LEN - W_PROCESS + 1;

/** The fields of a successful sendv event, as `SendvRecords.write` stores them. */
export interface SendvFields {
  process: number;
  ret: number;
  srcDomid: number;
  srcAport: number;
  dstDomid: number;
  dstAport: number;
  messageType: number;
  len: number;
}

/** Something that writes one event's JSON line into bytes (a sink places it in its frame). */
export interface LineWriter {
  /** The most bytes `writeTo` may write. */
  readonly maxBytes: number;
  /** Writes the line at `out[at..]`; returns its length. */
  writeTo(out: Buffer, at: number): number;
}

/** Typed views over the ring, for storing and reading records at aligned offsets. */
export class SendvRecords {
  readonly #f64: Float64Array;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;

  constructor(ring: Buffer) {
    if (ring.byteOffset % SENDV_RECORD_ALIGN !== 0)
      throw new RangeError(`the history ring must start 8-byte aligned, got ${ring.byteOffset}`);
    this.#f64 = new Float64Array(ring.buffer, ring.byteOffset, Math.floor(ring.length / 8));
    this.#i32 = new Int32Array(ring.buffer, ring.byteOffset, Math.floor(ring.length / 4));
    this.#u32 = new Uint32Array(ring.buffer, ring.byteOffset, Math.floor(ring.length / 4));
  }

  /**
   * Stores a record at `at` (aligned, with `SENDV_RECORD_BYTES` of room): monotonic time in ms,
   * the fields, and the payload's digest (`NO_DIGEST` when the payload was not readable).
   */
  write(at: number, monoMs: number, f: SendvFields, digest: number): void {
    const w = at >> 2;
    this.#f64[at >> 3] = monoMs;
    const i32 = this.#i32;
    const u32 = this.#u32;
    i32[w + W_PROCESS] = f.process;
    i32[w + W_RET] = f.ret;
    i32[w + W_SRC_DOMID] = f.srcDomid;
    u32[w + W_SRC_APORT] = f.srcAport;
    i32[w + W_DST_DOMID] = f.dstDomid;
    u32[w + W_DST_APORT] = f.dstAport;
    u32[w + W_MESSAGE_TYPE] = f.messageType;
    u32[w + W_LEN] = f.len;
    // Present or not: the line then says `"digest":""`, as the text path does.
    i32[w + W_HAS_DIGEST] = digest === NO_DIGEST ? 0 : 1;
    u32[w + W_DIGEST] = digest === NO_DIGEST ? 0 : digest;
  }

  monoMs(at: number): number {
    return this.#f64[at >> 3] ?? 0;
  }

  i32(at: number, word: number): number {
    return this.#i32[(at >> 2) + word] ?? 0;
  }

  u32(at: number, word: number): number {
    return this.#u32[(at >> 2) + word] ?? 0;
  }
}

function ascii(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

const SEQ = ascii('{"seq":');
const TIME = ascii(',"time":"');
const KIND = ascii('","kind":"hypercall","type":"ok","f":"sendv","process":');
const RET = ascii(',"ret":');
const SRC = ascii(',"value":{"src":{"domid":');
const SRC_APORT = ascii(',"aport":');
const DST = ascii('},"dst":{"domid":');
const DST_APORT = ascii(',"aport":');
const MESSAGE_TYPE = ascii('},"messageType":');
const LEN = ascii(',"len":');
const DIGEST = ascii(',"digest":"');
const PREFIX = ascii(DIGEST_PREFIX);
const HEX = ascii("0123456789abcdef");

/** Longest rendered line: the fixed text, ten integers of up to 20 characters, time and digest. */
export const SENDV_LINE_MAX = 512;

/** Writes a safe integer's decimal digits at `pos` in `out`; returns the position after. */
function writeInt(out: Buffer, pos: number, n: number): number {
  if (n < 0) {
    out[pos++] = 0x2d;
    n = -n;
  }
  if (n < 10) {
    out[pos] = 0x30 + n;
    return pos + 1;
  }
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  const end = pos + digits;
  for (let i = end - 1; i >= pos; i--) {
    const q = Math.floor(n / 10);
    out[i] = 0x30 + n - q * 10;
    n = q;
  }
  return end;
}

/** Byte by byte: `Buffer.copy` checks its arguments at a cost larger than these few bytes. */
function put(out: Buffer, pos: number, piece: Buffer): number {
  for (let i = 0; i < piece.length; i++) out[pos + i] = piece[i] ?? 0;
  return pos + piece.length;
}

/**
 * Renders records as their JSON lines: `set` picks a record and its seq, `writeTo` writes the
 * line. The text between the time and the digest depends only on the numbers, which repeat
 * from one sendv to the next of a stream, so it is kept from the previous record and copied
 * when they match.
 */
export class SendvLine implements LineWriter {
  readonly maxBytes = SENDV_LINE_MAX;
  #at = 0;
  #seq = 0;
  /** The numbers the kept middle text was rendered from; `#middleLength` 0 = none kept. */
  readonly #middleKey = new Int32Array(MIDDLE_WORDS);
  readonly #middleBytes = Buffer.allocUnsafeSlow(SENDV_LINE_MAX);
  #middle: Buffer = this.#middleBytes.subarray(0, 0);

  constructor(
    readonly records: SendvRecords,
    readonly clock: Rfc3339Clock,
  ) {}

  /** The record at `at` is `seq`'s. */
  set(at: number, seq: number): this {
    this.#at = at;
    this.#seq = seq;
    return this;
  }

  writeTo(out: Buffer, at: number): number {
    const r = this.records;
    const rec = this.#at;
    let pos = put(out, at, SEQ);
    pos = writeInt(out, pos, this.#seq);
    pos = put(out, pos, TIME);
    pos = this.clock.writeTo(r.monoMs(rec), out, pos);
    if (!this.#middleMatches(rec)) this.#renderMiddle(rec);
    out.set(this.#middle, pos);
    pos += this.#middle.length;
    if (r.i32(rec, W_HAS_DIGEST) === 1) {
      pos = put(out, pos, PREFIX);
      const digest = r.u32(rec, W_DIGEST);
      for (let i = DIGEST_HEX - 1; i >= 0; i--) out[pos++] = HEX[(digest >>> (i * 4)) & 0xf] ?? 0;
    }
    out[pos++] = 0x22; // closing quote of the digest
    out[pos++] = 0x7d;
    out[pos++] = 0x7d;
    return pos - at;
  }

  #middleMatches(rec: number): boolean {
    if (this.#middle.length === 0) return false;
    const key = this.#middleKey;
    for (let i = 0; i < MIDDLE_WORDS; i++)
      if (key[i] !== this.records.i32(rec, W_PROCESS + i)) return false;
    return true;
  }

  /** The text from the time's closing quote to the digest's opening one. */
  #renderMiddle(rec: number): void {
    const r = this.records;
    for (let i = 0; i < MIDDLE_WORDS; i++) this.#middleKey[i] = r.i32(rec, W_PROCESS + i);
    const out = this.#middleBytes;
    let pos = put(out, 0, KIND);
    pos = writeInt(out, pos, r.i32(rec, W_PROCESS));
    pos = put(out, pos, RET);
    pos = writeInt(out, pos, r.i32(rec, W_RET));
    pos = put(out, pos, SRC);
    pos = writeInt(out, pos, r.i32(rec, W_SRC_DOMID));
    pos = put(out, pos, SRC_APORT);
    pos = writeInt(out, pos, r.u32(rec, W_SRC_APORT));
    pos = put(out, pos, DST);
    pos = writeInt(out, pos, r.i32(rec, W_DST_DOMID));
    pos = put(out, pos, DST_APORT);
    pos = writeInt(out, pos, r.u32(rec, W_DST_APORT));
    pos = put(out, pos, MESSAGE_TYPE);
    pos = writeInt(out, pos, r.u32(rec, W_MESSAGE_TYPE));
    pos = put(out, pos, LEN);
    pos = writeInt(out, pos, r.u32(rec, W_LEN));
    pos = put(out, pos, DIGEST);
    this.#middle = out.subarray(0, pos);
  }
}
