// SPDX-License-Identifier: Apache-2.0
/**
 * A successful ReadMemory or WriteMemory as a binary record (its binary history entry), rendered
 * as JSON when read, like a sendv (sendv-record.ts): a guest reads every message out of its ring
 * with ReadMemory and moves its pointers with WriteMemory, so these are the next most frequent
 * events, and the text path (an object, JSON.stringify, the time formatted, UTF-8 into the ring)
 * cost several times what a record does. The line is exactly what the text path would write
 * (the history test compares them).
 */
import { HOT_HEAD_BYTES, TAG_READ_MEMORY, TAG_WRITE_MEMORY } from "./history-binary.js";
import type { Rfc3339Clock } from "./rfc3339-clock.js";
import {
  ascii,
  getU64,
  put,
  putHead,
  RecordLine,
  setDigest,
  setU64,
  writeDigest,
  writeInt,
} from "./record-views.js";

/** Byte offsets of the fields after the head: process, ret, gpa (u64), len, a write's digest. */
const F_PROCESS = 0;
const F_RET = 4;
const F_GPA = 8;
const F_LEN = 16;
const F_DIGEST = 20;

/** Bytes of a ReadMemory's record (a WriteMemory's adds its digest). */
const READ_RECORD_BYTES = HOT_HEAD_BYTES + F_DIGEST;

/** Bytes of the record of a ReadMemory (`write` false) or a WriteMemory. */
export function memoryRecordBytes(write: boolean): number {
  return write ? READ_RECORD_BYTES + 5 : READ_RECORD_BYTES;
}

/** Writes `seq`'s record at `at` (with `memoryRecordBytes` of room). */
export function writeMemoryRecord(
  ring: Buffer,
  view: DataView,
  at: number,
  seq: number,
  clock: Rfc3339Clock,
  monoMs: number,
  process: number,
  ret: number,
  gpa: number,
  len: number,
  /** A WriteMemory's digest of its data; undefined for a ReadMemory. */
  writeDigest: number | undefined,
): void {
  const tag = writeDigest === undefined ? TAG_READ_MEMORY : TAG_WRITE_MEMORY;
  const fields = putHead(ring, at, tag, seq, clock, monoMs);
  view.setUint32(fields + F_PROCESS, process, true);
  view.setUint32(fields + F_RET, ret, true);
  setU64(view, fields + F_GPA, gpa);
  view.setUint32(fields + F_LEN, len, true);
  if (writeDigest !== undefined) setDigest(view, fields + F_DIGEST, writeDigest);
}

const READ = ascii('","kind":"hypercall","type":"ok","f":"readMemory","process":');
const WRITE = ascii('","kind":"hypercall","type":"ok","f":"writeMemory","process":');
const RET = ascii(',"ret":');
const GPA = ascii(',"value":{"gpa":');
const LEN = ascii(',"len":');
const DIGEST = ascii(',"digest":"');

/** Longest rendered line: the fixed text, four integers, time and digest. */
export const MEMORY_LINE_MAX = 320;

/** Renders memory records as their JSON lines. */
export class MemoryLine extends RecordLine {
  readonly maxBytes = MEMORY_LINE_MAX;

  protected writeBody(out: Buffer, pos: number): number {
    const r = this.ring;
    const fields = this.fields;
    const write = r.getUint8(fields - HOT_HEAD_BYTES) === TAG_WRITE_MEMORY;
    pos = put(out, pos, write ? WRITE : READ);
    pos = writeInt(out, pos, r.getInt32(fields + F_PROCESS, true));
    pos = put(out, pos, RET);
    pos = writeInt(out, pos, r.getInt32(fields + F_RET, true));
    pos = put(out, pos, GPA);
    pos = writeInt(out, pos, getU64(r, fields + F_GPA));
    pos = put(out, pos, LEN);
    pos = writeInt(out, pos, r.getUint32(fields + F_LEN, true));
    if (write) {
      pos = put(out, pos, DIGEST);
      pos = writeDigest(out, pos, r, fields + F_DIGEST);
      out[pos++] = 0x22;
    }
    out[pos++] = 0x7d; // the end of `value`
    return pos;
  }
}
