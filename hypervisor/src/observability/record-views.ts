// SPDX-License-Identifier: Apache-2.0
/**
 * What the history's binary records (sendv-record.ts, memory-record.ts) share. A record in the
 * byte ring is the event's entry of the binary history format itself (history-binary.ts: a tag,
 * the seq and the time as u64s, then the event's fields, little-endian), written once when the
 * event happens: a binary subscriber's pump then copies the ring's bytes, a run of consecutive
 * records at a time, instead of writing each entry field by field. The JSON line is rendered
 * from the record when a JSON subscriber or the file takes it, as ASCII straight into bytes (no
 * string per event), with the monotonic time the history keeps beside the record.
 */
import { DIGEST_HEX, DIGEST_PREFIX, NO_DIGEST } from "./payload-digest.js";
import type { Rfc3339Clock } from "./rfc3339-clock.js";
import { HOT_HEAD_BYTES } from "./history-binary.js";

/**
 * Something that writes one event into bytes as its JSON line; a sink places it in its frame.
 */
export interface LineWriter {
  /** The most bytes `writeTo` may write. */
  readonly maxBytes: number;
  /** Writes the line at `out[at..]`; returns its length. */
  writeTo(out: Buffer, at: number): number;
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

/**
 * A DataView over the ring, for a record's fields: its little-endian getters and setters compile
 * to single loads and stores, where byte-by-byte helpers made the renderers too large for V8 to
 * inline their other helpers (`put`, `writeInt`), and cost more than the record itself.
 */
export function ringView(ring: Buffer): DataView {
  return new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
}

/** The little-endian u64 at `pos` (a safe integer). */
export function getU64(v: DataView, pos: number): number {
  return v.getUint32(pos, true) + v.getUint32(pos + 4, true) * 4294967296;
}

/** A non-negative safe integer at `pos` as a little-endian u64. */
export function setU64(v: DataView, pos: number, n: number): void {
  const hi = Math.floor(n / 4294967296);
  v.setUint32(pos, n - hi * 4294967296, true);
  v.setUint32(pos + 4, hi, true);
}

/**
 * A record's head: its tag, `seq`, and the time as u64 nanoseconds since the epoch. Returns the
 * position of its first field (`at + HOT_HEAD_BYTES`).
 */
export function putHead(
  out: Buffer,
  at: number,
  tag: number,
  seq: number,
  clock: Rfc3339Clock,
  monoMs: number,
): number {
  out[at] = tag;
  return clock.writeEpochNs(monoMs, out, putU64(out, at + 1, seq));
}

/** A digest (`NO_DIGEST` or a CRC-32) as the binary format's u8 present, u32 value. */
export function setDigest(v: DataView, pos: number, digest: number): void {
  v.setUint8(pos, digest === NO_DIGEST ? 0 : 1);
  v.setUint32(pos + 1, digest === NO_DIGEST ? 0 : digest, true);
}

const PREFIX = ascii(DIGEST_PREFIX);
const HEX = ascii("0123456789abcdef");

/**
 * The digest a record holds at `from` (see `putDigest`) as the text path writes it between its
 * quotes: `crc32:` and 8 hex digits, or nothing.
 */
export function writeDigest(out: Buffer, pos: number, v: DataView, from: number): number {
  if (v.getUint8(from) !== 1) return pos;
  pos = put(out, pos, PREFIX);
  const digest = v.getUint32(from + 1, true);
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

/**
 * A binary record's JSON line: `set` picks the record, its seq and its monotonic time,
 * `writeTo` writes `{"seq":N,"time":"T`, the record's own part (`writeBody`, up to and
 * including its `value` and any field after it), and the event's closing brace.
 */
export abstract class RecordLine implements LineWriter {
  abstract readonly maxBytes: number;
  /** Where the record's fields start in the ring (after its head). */
  protected fields = 0;
  #seq = 0;
  #monoMs = 0;

  constructor(
    /** The history's byte ring the records are in, as a view (`ringView`). */
    readonly ring: DataView,
    readonly clock: Rfc3339Clock,
  ) {}

  /** The record at `at` is `seq`'s, at `monoMs`. */
  set(at: number, seq: number, monoMs: number): this {
    this.fields = at + HOT_HEAD_BYTES;
    this.#seq = seq;
    this.#monoMs = monoMs;
    return this;
  }

  writeTo(out: Buffer, at: number): number {
    let pos = writeHead(out, at, this.#seq, this.clock, this.#monoMs);
    pos = this.writeBody(out, pos);
    out[pos++] = 0x7d;
    return pos - at;
  }

  /** Writes from the time's closing quote to the end of the event's last field. */
  protected abstract writeBody(out: Buffer, pos: number): number;
}
