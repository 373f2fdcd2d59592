// SPDX-License-Identifier: Apache-2.0
/**
 * A successful sendv as a fixed-size binary record in the history's byte ring, turned into its
 * JSON line only when a subscriber or the file takes it. Successful sendvs are nearly every
 * hypercall of a busy run, and building each one's line at record time (a string, its time
 * formatted, then UTF-8 into the ring) cost more than the hypercall itself; the record is a few
 * number stores, and rendering writes ASCII straight into bytes without intermediate strings.
 * The line is exactly what the text path would write (the history test compares them).
 */
import type { Rfc3339Clock } from "./rfc3339-clock.js";

/** Bytes of one record in the ring. */
export const SENDV_RECORD_BYTES = 64;
/** Hex digits of the digest kept (as the text path's digests). */
export const DIGEST_HEX = 16;

/** A byte saying whether the digest is present, then the digest. */
const HAS_DIGEST_AT = 40;
const DIGEST_AT = 48;

/** The fields of a successful sendv event, as `writeSendvRecord` stores them. */
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

/**
 * Stores a record at `at`: monotonic time in ms, the fields, and the digest's `DIGEST_HEX` hex
 * digits ("" when the payload was not readable).
 */
export function writeSendvRecord(
  buf: Buffer,
  at: number,
  monoMs: number,
  f: SendvFields,
  digestHex: string,
): void {
  buf.writeDoubleLE(monoMs, at);
  buf.writeInt32LE(f.process, at + 8);
  buf.writeInt32LE(f.ret, at + 12);
  buf.writeInt32LE(f.srcDomid, at + 16);
  buf.writeUInt32LE(f.srcAport, at + 20);
  buf.writeInt32LE(f.dstDomid, at + 24);
  buf.writeUInt32LE(f.dstAport, at + 28);
  buf.writeUInt32LE(f.messageType, at + 32);
  buf.writeUInt32LE(f.len, at + 36);
  // Present or not: the line then says `"digest":""`, as the text path does.
  const present = digestHex.length >= DIGEST_HEX;
  buf[at + HAS_DIGEST_AT] = present ? 1 : 0;
  if (present)
    for (let i = 0; i < DIGEST_HEX; i++) buf[at + DIGEST_AT + i] = digestHex.charCodeAt(i);
}

const PIECES = [
  ',"kind":"hypercall","type":"ok","f":"sendv","process":',
  ',"ret":',
  ',"value":{"src":{"domid":',
  ',"aport":',
  '},"dst":{"domid":',
  ',"aport":',
  '},"messageType":',
  ',"len":',
  ',"digest":"',
].map((s) => Buffer.from(s, "latin1"));
const [KIND, RET, SRC, SRC_APORT, DST, DST_APORT, MESSAGE_TYPE, LEN, DIGEST] = PIECES as [
  Buffer,
  Buffer,
  Buffer,
  Buffer,
  Buffer,
  Buffer,
  Buffer,
  Buffer,
  Buffer,
];
const SEQ = Buffer.from('{"seq":', "latin1");
const TIME = Buffer.from(',"time":"', "latin1");

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
    out[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return end;
}

/** Byte by byte: `Buffer.copy` checks its arguments at a cost larger than these few bytes. */
function put(out: Buffer, pos: number, piece: Buffer): number {
  for (let i = 0; i < piece.length; i++) out[pos + i] = piece[i] ?? 0;
  return pos + piece.length;
}

/** Renders the record at `at` as seq's JSON line into `out` from 0; returns its length. */
export function renderSendvRecord(
  src: Buffer,
  at: number,
  seq: number,
  clock: Rfc3339Clock,
  out: Buffer,
): number {
  let pos = put(out, 0, SEQ);
  pos = writeInt(out, pos, seq);
  pos = put(out, pos, TIME);
  pos = clock.writeTo(src.readDoubleLE(at), out, pos);
  out[pos++] = 0x22;
  pos = put(out, pos, KIND);
  pos = writeInt(out, pos, src.readInt32LE(at + 8));
  pos = put(out, pos, RET);
  pos = writeInt(out, pos, src.readInt32LE(at + 12));
  pos = put(out, pos, SRC);
  pos = writeInt(out, pos, src.readInt32LE(at + 16));
  pos = put(out, pos, SRC_APORT);
  pos = writeInt(out, pos, src.readUInt32LE(at + 20));
  pos = put(out, pos, DST);
  pos = writeInt(out, pos, src.readInt32LE(at + 24));
  pos = put(out, pos, DST_APORT);
  pos = writeInt(out, pos, src.readUInt32LE(at + 28));
  pos = put(out, pos, MESSAGE_TYPE);
  pos = writeInt(out, pos, src.readUInt32LE(at + 32));
  pos = put(out, pos, LEN);
  pos = writeInt(out, pos, src.readUInt32LE(at + 36));
  pos = put(out, pos, DIGEST);
  if (src[at + HAS_DIGEST_AT] === 1)
    for (let i = 0; i < DIGEST_HEX; i++) out[pos++] = src[at + DIGEST_AT + i] ?? 0;
  out[pos++] = 0x22;
  out[pos++] = 0x7d;
  out[pos++] = 0x7d;
  return pos;
}
