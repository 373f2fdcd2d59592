// SPDX-License-Identifier: Apache-2.0
/**
 * A sendv that returned (succeeded, or failed with an errno such as a full ring's -EAGAIN) as a
 * fixed-size binary record in the history's byte ring, turned into its
 * JSON line only when a subscriber or the file takes it. Successful sendvs are nearly every
 * hypercall of a busy run, and building each one's line at record time (a string, its time
 * formatted, then UTF-8 into the ring) cost more than the hypercall itself; the record is a few
 * stores through typed-array views (record-views.ts), and the line is written as ASCII straight
 * into the subscriber's outgoing frame, with no intermediate string or copy. The line is exactly
 * what the text path would write (the history test compares them). A failed sendv is told by its
 * negative `ret`: its line says `"type":"fail"`, has no digest, and names the errno in `error`;
 * under a flood they are nearly as frequent as the successes (every full ring's -EAGAIN).
 */
import { errnoLabel } from "./metrics.js";
import { HOT_HEAD_BYTES, TAG_SENDV_FAIL, TAG_SENDV_OK } from "./history-binary.js";
import {
  ascii,
  put,
  putDigest,
  putU32,
  RecordLine,
  W_TIME,
  writeDigest,
  writeInt,
  type RecordViews,
} from "./record-views.js";

/** Bytes of one record in the ring (a multiple of 8: the time is a double). */
export const SENDV_RECORD_BYTES = 48;

/** 32-bit word indexes from a record's start, after the time (W_TIME, words 0 and 1). */
const W_PROCESS = 2;
const W_RET = 3;
const W_SRC_DOMID = 4;
const W_SRC_APORT = 5;
const W_DST_DOMID = 6;
const W_DST_APORT = 7;
const W_MESSAGE_TYPE = 8;
const W_LEN = 9;
const W_DIGEST = 10; // and 11
/** Words that, when equal, render the same text between the time and the digest. */
const MIDDLE_WORDS = W_LEN - W_PROCESS + 1;

/** The fields of a sendv event, as `writeSendvRecord` stores them (`ret` < 0: it failed). */
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
 * Stores a record at `at` (aligned, with `SENDV_RECORD_BYTES` of room): monotonic time in ms,
 * the fields, and the payload's digest (`NO_DIGEST` when the payload was not readable: the line
 * then says `"digest":""`, as the text path does; ignored for a failed sendv, which has none).
 */
export function writeSendvRecord(
  r: RecordViews,
  at: number,
  monoMs: number,
  f: SendvFields,
  digest: number,
): void {
  r.setF64(at, W_TIME, monoMs);
  r.setI32(at, W_PROCESS, f.process);
  r.setI32(at, W_RET, f.ret);
  r.setI32(at, W_SRC_DOMID, f.srcDomid);
  r.setU32(at, W_SRC_APORT, f.srcAport);
  r.setI32(at, W_DST_DOMID, f.dstDomid);
  r.setU32(at, W_DST_APORT, f.dstAport);
  r.setU32(at, W_MESSAGE_TYPE, f.messageType);
  r.setU32(at, W_LEN, f.len);
  r.setDigest(at, W_DIGEST, digest);
}

const KIND = ascii('","kind":"hypercall","type":"ok","f":"sendv","process":');
const FAILED_KIND = ascii('","kind":"hypercall","type":"fail","f":"sendv","process":');
const RET = ascii(',"ret":');
const SRC = ascii(',"value":{"src":{"domid":');
const SRC_APORT = ascii(',"aport":');
const DST = ascii('},"dst":{"domid":');
const DST_APORT = ascii(',"aport":');
const MESSAGE_TYPE = ascii('},"messageType":');
const LEN = ascii(',"len":');
const DIGEST = ascii(',"digest":"');
const ERROR = ascii('},"error":"');

/** `errnoLabel` as bytes, by `ret`: a failed sendv's few errnos, each converted once. */
const errorLabels = new Map<number, Buffer>();
function errorLabel(ret: number): Buffer {
  let label = errorLabels.get(ret);
  if (label === undefined) {
    label = ascii(errnoLabel(ret));
    errorLabels.set(ret, label);
  }
  return label;
}

/** Longest rendered line: the fixed text, ten integers of up to 20 characters, time and digest. */
export const SENDV_LINE_MAX = 512;

/** One kept middle text (`text`, empty: none kept yet) and the numbers it was rendered from. */
class Middle {
  readonly key = new Int32Array(MIDDLE_WORDS);
  readonly bytes = Buffer.allocUnsafeSlow(SENDV_LINE_MAX);
  text: Buffer = this.bytes.subarray(0, 0);
}

/**
 * Renders sendv records as their JSON lines: `set` picks a record and its seq, `writeTo` writes
 * the line. The text between the time and the digest depends only on the numbers, which repeat
 * from one sendv to the next of a stream, so it is kept from the previous record and copied
 * when they match. Successes and failures keep one each: a flood alternates between bursts of
 * both (`ret` differs), and one kept text was rendered again at every switch. A failure's kept
 * text runs to the end of the event, its `error` included.
 */
export class SendvLine extends RecordLine {
  readonly maxBytes = SENDV_LINE_MAX;
  /** The head, eight words, and a digest (5 bytes) or an error label (a length byte and ≤ 255). */
  readonly maxBinaryBytes = HOT_HEAD_BYTES + MIDDLE_WORDS * 4 + 256;

  protected binaryTag(): number {
    return this.records.i32(this.rec, W_RET) < 0 ? TAG_SENDV_FAIL : TAG_SENDV_OK;
  }

  /**
   * process, ret, src domid and aport, dst domid and aport, messageType, len (the record's
   * words in order: an i32's bits are its u32's), then the digest, or a failure's error label.
   */
  protected writeBinaryBody(out: Buffer, pos: number): number {
    const r = this.records;
    const rec = this.rec;
    for (let i = 0; i < MIDDLE_WORDS; i++) pos = putU32(out, pos, r.i32(rec, W_PROCESS + i));
    const ret = r.i32(rec, W_RET);
    if (ret >= 0) return putDigest(out, pos, r, rec, W_DIGEST);
    const label = errorLabel(ret);
    out[pos] = label.length;
    return put(out, pos + 1, label);
  }
  readonly #ok = new Middle();
  readonly #failed = new Middle();

  protected writeBody(out: Buffer, pos: number): number {
    const rec = this.rec;
    const failed = this.records.i32(rec, W_RET) < 0;
    const middle = failed ? this.#failed : this.#ok;
    if (!this.#matches(middle, rec)) this.#render(middle, rec, failed);
    // One native copy: a byte loop over this ~150-byte text cost 20% more per event.
    out.set(middle.text, pos);
    pos += middle.text.length;
    if (failed) return pos;
    pos = writeDigest(out, pos, this.records, rec, W_DIGEST);
    out[pos++] = 0x22; // the digest's closing quote
    out[pos++] = 0x7d; // the end of `value`
    return pos;
  }

  #matches(middle: Middle, rec: number): boolean {
    if (middle.text.length === 0) return false;
    const key = middle.key;
    for (let i = 0; i < MIDDLE_WORDS; i++)
      if (key[i] !== this.records.i32(rec, W_PROCESS + i)) return false;
    return true;
  }

  /**
   * The text from the time's closing quote to the digest's opening one, or for a failed sendv to
   * the end of its `error`.
   */
  #render(middle: Middle, rec: number, failed: boolean): void {
    const r = this.records;
    for (let i = 0; i < MIDDLE_WORDS; i++) middle.key[i] = r.i32(rec, W_PROCESS + i);
    const out = middle.bytes;
    let pos = put(out, 0, failed ? FAILED_KIND : KIND);
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
    if (failed) {
      pos = put(out, pos, ERROR);
      pos = put(out, pos, errorLabel(r.i32(rec, W_RET)));
      out[pos++] = 0x22; // the error's closing quote
    } else pos = put(out, pos, DIGEST);
    middle.text = out.subarray(0, pos);
  }
}
