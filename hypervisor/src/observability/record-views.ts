// SPDX-License-Identifier: Apache-2.0
/**
 * What the history's binary records (sendv-record.ts, memory-record.ts) share: typed-array views
 * over the byte ring, through which a record is a few stores at an 8-byte-aligned offset, and
 * the pieces their renderers write JSON with, as ASCII straight into bytes (no string per
 * event).
 */
import { DIGEST_HEX, DIGEST_PREFIX, NO_DIGEST } from "./payload-digest.js";
import type { Rfc3339Clock } from "./rfc3339-clock.js";

/** Binary records start at offsets that are multiples of this (they hold doubles). */
export const RECORD_ALIGN = 8;

/**
 * Something that writes one event into bytes, as its JSON line or as its entry of the binary
 * history format (history-binary.ts); a sink places it in its frame.
 */
export interface LineWriter {
  /** The most bytes `writeTo` may write. */
  readonly maxBytes: number;
  /** Writes the line at `out[at..]`; returns its length. */
  writeTo(out: Buffer, at: number): number;
  /** The most bytes `writeBinaryTo` may write. */
  readonly maxBinaryBytes: number;
  /** Writes the event's binary entry at `out[at..]`; returns its length. */
  writeBinaryTo(out: Buffer, at: number): number;
}

/** Views over the ring; `word` indexes count 32-bit words from a record's start `at`. */
export class RecordViews {
  readonly #f64: Float64Array;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;

  constructor(ring: Buffer) {
    if (ring.byteOffset % RECORD_ALIGN !== 0)
      throw new RangeError(`the history ring must start 8-byte aligned, got ${ring.byteOffset}`);
    this.#f64 = new Float64Array(ring.buffer, ring.byteOffset, Math.floor(ring.length / 8));
    this.#i32 = new Int32Array(ring.buffer, ring.byteOffset, Math.floor(ring.length / 4));
    this.#u32 = new Uint32Array(ring.buffer, ring.byteOffset, Math.floor(ring.length / 4));
  }

  /** A double at an even `word`. */
  f64(at: number, word: number): number {
    return this.#f64[(at >> 3) + (word >> 1)] ?? 0;
  }

  setF64(at: number, word: number, value: number): void {
    this.#f64[(at >> 3) + (word >> 1)] = value;
  }

  i32(at: number, word: number): number {
    return this.#i32[(at >> 2) + word] ?? 0;
  }

  setI32(at: number, word: number, value: number): void {
    this.#i32[(at >> 2) + word] = value;
  }

  u32(at: number, word: number): number {
    return this.#u32[(at >> 2) + word] ?? 0;
  }

  setU32(at: number, word: number, value: number): void {
    this.#u32[(at >> 2) + word] = value;
  }

  /** A digest (`NO_DIGEST` or a CRC-32) as two words: present, value. */
  setDigest(at: number, word: number, digest: number): void {
    this.setI32(at, word, digest === NO_DIGEST ? 0 : 1);
    this.setU32(at, word + 1, digest === NO_DIGEST ? 0 : digest);
  }
}

export function ascii(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

/** Writes a safe integer's decimal digits at `pos` in `out`; returns the position after. */
export function writeInt(out: Buffer, pos: number, n: number): number {
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
export function put(out: Buffer, pos: number, piece: Buffer): number {
  for (let i = 0; i < piece.length; i++) out[pos + i] = piece[i] ?? 0;
  return pos + piece.length;
}

const PREFIX = ascii(DIGEST_PREFIX);
const HEX = ascii("0123456789abcdef");

/**
 * The digest stored at `word` (see `setDigest`) as the text path writes it between its quotes:
 * `crc32:` and 8 hex digits, or nothing.
 */
export function writeDigest(
  out: Buffer,
  pos: number,
  r: RecordViews,
  at: number,
  word: number,
): number {
  if (r.i32(at, word) !== 1) return pos;
  pos = put(out, pos, PREFIX);
  const digest = r.u32(at, word + 1);
  for (let i = DIGEST_HEX - 1; i >= 0; i--) out[pos++] = HEX[(digest >>> (i * 4)) & 0xf] ?? 0;
  return pos;
}

const SEQ = ascii('{"seq":');
const TIME = ascii(',"time":"');

/** `{"seq":N,"time":"T` — every line's start (the time's closing quote is the caller's). */
export function writeHead(
  out: Buffer,
  pos: number,
  seq: number,
  clock: Rfc3339Clock,
  monoMs: number,
): number {
  pos = put(out, pos, SEQ);
  pos = writeInt(out, pos, seq);
  pos = put(out, pos, TIME);
  return clock.writeTo(monoMs, out, pos);
}

/** Every binary record starts with its monotonic time in ms (a double at words 0 and 1). */
export const W_TIME = 0;

/** A u32 at `pos` in `out`, little-endian, byte by byte (cheaper than `writeUInt32LE`'s checks). */
export function putU32(out: Buffer, pos: number, n: number): number {
  out[pos] = n & 0xff;
  out[pos + 1] = (n >>> 8) & 0xff;
  out[pos + 2] = (n >>> 16) & 0xff;
  out[pos + 3] = (n >>> 24) & 0xff;
  return pos + 4;
}

/** A non-negative safe integer at `pos` in `out` as a little-endian u64. */
export function putU64(out: Buffer, pos: number, n: number): number {
  const hi = Math.floor(n / 4294967296);
  putU32(out, pos, n - hi * 4294967296);
  return putU32(out, pos + 4, hi);
}

/** A digest stored at `word` (see `setDigest`) as the binary format's u8 present, u32 value. */
export function putDigest(
  out: Buffer,
  pos: number,
  r: RecordViews,
  at: number,
  word: number,
): number {
  out[pos] = r.i32(at, word) === 1 ? 1 : 0;
  return putU32(out, pos + 1, r.u32(at, word + 1));
}

/**
 * A binary record's JSON line: `set` picks the record and its seq, `writeTo` writes
 * `{"seq":N,"time":"T`, the record's own part (`writeBody`, up to and including its `value`
 * and any field after it), and the event's closing brace.
 */
export abstract class RecordLine implements LineWriter {
  abstract readonly maxBytes: number;
  /** The record being rendered (its offset in the ring). */
  protected rec = 0;
  #seq = 0;

  constructor(
    readonly records: RecordViews,
    readonly clock: Rfc3339Clock,
  ) {}

  /** The record at `at` is `seq`'s. */
  set(at: number, seq: number): this {
    this.rec = at;
    this.#seq = seq;
    return this;
  }

  writeTo(out: Buffer, at: number): number {
    let pos = writeHead(out, at, this.#seq, this.clock, this.records.f64(this.rec, W_TIME));
    pos = this.writeBody(out, pos);
    out[pos++] = 0x7d;
    return pos - at;
  }

  abstract readonly maxBinaryBytes: number;

  /** The entry's tag, then its seq and time (every hot entry starts so), then `writeBinaryBody`. */
  writeBinaryTo(out: Buffer, at: number): number {
    out[at] = this.binaryTag();
    let pos = putU64(out, at + 1, this.#seq);
    pos = this.clock.writeEpochNs(this.records.f64(this.rec, W_TIME), out, pos);
    return this.writeBinaryBody(out, pos) - at;
  }

  /** Writes from the time's closing quote to the end of the event's last field. */
  protected abstract writeBody(out: Buffer, pos: number): number;

  /** The binary entry's tag for the record being rendered (history-binary.ts). */
  protected abstract binaryTag(): number;

  /** Writes the binary entry's fields after its time; returns the position after. */
  protected abstract writeBinaryBody(out: Buffer, pos: number): number;
}
