// SPDX-License-Identifier: Apache-2.0
/**
 * A sendv that returned (succeeded, or failed with an errno such as a full ring's -EAGAIN) as a
 * binary record in the history's byte ring: its entry of the binary history format, which a
 * binary subscriber gets copied as it is, turned into its JSON line only when a JSON subscriber
 * or the file takes it. Successful sendvs are nearly every hypercall of a busy run, and building
 * each one's line at record time (a string, its time formatted, then UTF-8 into the ring) cost
 * more than the hypercall itself; the record is a few byte stores (record-views.ts), and the line
 * is written as ASCII straight into the subscriber's outgoing frame, with no intermediate string
 * or copy. The line is exactly
 * what the text path would write (the history test compares them). A failed sendv is told by its
 * negative `ret`: its line says `"type":"fail"`, has no digest, and names the errno in `error`;
 * under a flood they are nearly as frequent as the successes (every full ring's -EAGAIN).
 */
import { errnoLabel } from "./metrics.js";
import { HOT_HEAD_BYTES, TAG_SENDV_FAIL, TAG_SENDV_OK } from "./history-binary.js";
import type { Rfc3339Clock } from "./rfc3339-clock.js";
import {
  ascii,
  put,
  putHead,
  RecordLine,
  setDigest,
  writeDigest,
  writeInt,
} from "./record-views.js";

/**
 * Byte offsets of the fields from the end of the record's head: process, ret, src domid and
 * aport, dst domid and aport, messageType, len (u32s), then a success's digest (u8 present, u32)
 * or a failure's error label (u8 length, then its bytes).
 */
const F_PROCESS = 0;
const F_RET = 4;
const F_SRC_DOMID = 8;
const F_SRC_APORT = 12;
const F_DST_DOMID = 16;
const F_DST_APORT = 20;
const F_MESSAGE_TYPE = 24;
const F_LEN = 28;
const F_TAIL = 32;
/** The u32 fields that, when equal, render the same text between the time and the digest. */
const MIDDLE_WORDS = F_TAIL / 4;

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

/** `errnoLabel` as bytes, by `ret`: a failed sendv's few errnos, each converted once. */
const errorLabels = new Map<number, Buffer>();
function errorLabel(ret: number): Buffer {
  let label = errorLabels.get(ret);
  if (label === undefined) {
    // The binary format gives the label a u8 length; errno labels are a few characters.
    label = ascii(errnoLabel(ret)).subarray(0, 255);
    errorLabels.set(ret, label);
  }
  return label;
}

/** Bytes of the record of a sendv that returned `ret` (a failure's carries its error label). */
export function sendvRecordBytes(ret: number): number {
  return HOT_HEAD_BYTES + F_TAIL + (ret < 0 ? 1 + errorLabel(ret).length : 5);
}

/**
 * Writes `seq`'s record at `at` (with `sendvRecordBytes(f.ret)` of room): its binary entry, the
 * digest `NO_DIGEST` when the payload was not readable (the line then says `"digest":""`, as the
 * text path does; a failed sendv has none, and names its errno instead).
 */
export function writeSendvRecord(
  ring: Buffer,
  view: DataView,
  at: number,
  seq: number,
  clock: Rfc3339Clock,
  monoMs: number,
  f: SendvFields,
  digest: number,
): void {
  const failed = f.ret < 0;
  const fields = putHead(ring, at, failed ? TAG_SENDV_FAIL : TAG_SENDV_OK, seq, clock, monoMs);
  // setUint32 takes an i32's bits as they are (ToUint32).
  view.setUint32(fields + F_PROCESS, f.process, true);
  view.setUint32(fields + F_RET, f.ret, true);
  view.setUint32(fields + F_SRC_DOMID, f.srcDomid, true);
  view.setUint32(fields + F_SRC_APORT, f.srcAport, true);
  view.setUint32(fields + F_DST_DOMID, f.dstDomid, true);
  view.setUint32(fields + F_DST_APORT, f.dstAport, true);
  view.setUint32(fields + F_MESSAGE_TYPE, f.messageType, true);
  view.setUint32(fields + F_LEN, f.len, true);
  if (!failed) {
    setDigest(view, fields + F_TAIL, digest);
    return;
  }
  const label = errorLabel(f.ret);
  ring[fields + F_TAIL] = label.length;
  put(ring, fields + F_TAIL + 1, label);
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
  readonly #ok = new Middle();
  readonly #failed = new Middle();

  protected writeBody(out: Buffer, pos: number): number {
    const fields = this.fields;
    const failed = this.ring.getInt32(fields + F_RET, true) < 0;
    const middle = failed ? this.#failed : this.#ok;
    if (!this.#matches(middle, fields)) this.#render(middle, fields, failed);
    // One native copy: a byte loop over this ~150-byte text cost 20% more per event.
    out.set(middle.text, pos);
    pos += middle.text.length;
    if (failed) return pos;
    pos = writeDigest(out, pos, this.ring, fields + F_TAIL);
    out[pos++] = 0x22; // the digest's closing quote
    out[pos++] = 0x7d; // the end of `value`
    return pos;
  }

  #matches(middle: Middle, fields: number): boolean {
    if (middle.text.length === 0) return false;
    const key = middle.key;
    for (let i = 0; i < MIDDLE_WORDS; i++)
      if (key[i] !== this.ring.getInt32(fields + 4 * i, true)) return false;
    return true;
  }

  /**
   * The text from the time's closing quote to the digest's opening one, or for a failed sendv to
   * the end of its `error`.
   */
  #render(middle: Middle, fields: number, failed: boolean): void {
    const r = this.ring;
    for (let i = 0; i < MIDDLE_WORDS; i++) middle.key[i] = r.getInt32(fields + 4 * i, true);
    const out = middle.bytes;
    let pos = put(out, 0, failed ? FAILED_KIND : KIND);
    pos = writeInt(out, pos, r.getInt32(fields + F_PROCESS, true));
    pos = put(out, pos, RET);
    pos = writeInt(out, pos, r.getInt32(fields + F_RET, true));
    pos = put(out, pos, SRC);
    pos = writeInt(out, pos, r.getInt32(fields + F_SRC_DOMID, true));
    pos = put(out, pos, SRC_APORT);
    pos = writeInt(out, pos, r.getUint32(fields + F_SRC_APORT, true));
    pos = put(out, pos, DST);
    pos = writeInt(out, pos, r.getInt32(fields + F_DST_DOMID, true));
    pos = put(out, pos, DST_APORT);
    pos = writeInt(out, pos, r.getUint32(fields + F_DST_APORT, true));
    pos = put(out, pos, MESSAGE_TYPE);
    pos = writeInt(out, pos, r.getUint32(fields + F_MESSAGE_TYPE, true));
    pos = put(out, pos, LEN);
    pos = writeInt(out, pos, r.getUint32(fields + F_LEN, true));
    if (failed) {
      pos = put(out, pos, ERROR);
      pos = put(out, pos, errorLabel(r.getInt32(fields + F_RET, true)));
      out[pos++] = 0x22; // the error's closing quote
    } else pos = put(out, pos, DIGEST);
    middle.text = out.subarray(0, pos);
  }
}
