// SPDX-License-Identifier: Apache-2.0
/**
 * A successful ReadMemory or WriteMemory as a binary record, rendered when read, like a sendv
 * (sendv-record.ts): a guest reads every message out of its ring with ReadMemory and moves its
 * pointers with WriteMemory, so these are the next most frequent events, and the text path
 * (an object, JSON.stringify, the time formatted, UTF-8 into the ring) cost several times what
 * a record does. The line is exactly what the text path would write (the history test compares
 * them).
 */
import { HOT_HEAD_BYTES, TAG_READ_MEMORY, TAG_WRITE_MEMORY } from "./history-binary.js";
import {
  ascii,
  put,
  putDigest,
  putU32,
  putU64,
  RecordLine,
  W_TIME,
  writeDigest,
  writeInt,
  type RecordViews,
} from "./record-views.js";

/** Bytes of one record in the ring (a multiple of 8). */
export const MEMORY_RECORD_BYTES = 40;

/** 32-bit word indexes after the time (W_TIME, words 0 and 1): [2, 3] the gpa (a double: 2^53). */
const W_GPA = 2;
const W_PROCESS = 4;
const W_RET = 5;
const W_LEN = 6;
const W_WRITE = 7;
const W_DIGEST = 8; // and 9

/** Stores a record at `at` (aligned, with `MEMORY_RECORD_BYTES` of room). */
export function writeMemoryRecord(
  r: RecordViews,
  at: number,
  monoMs: number,
  process: number,
  ret: number,
  gpa: number,
  len: number,
  /** A WriteMemory's digest of its data; undefined for a ReadMemory. */
  writeDigest: number | undefined,
): void {
  r.setF64(at, W_TIME, monoMs);
  r.setF64(at, W_GPA, gpa);
  r.setI32(at, W_PROCESS, process);
  r.setI32(at, W_RET, ret);
  r.setU32(at, W_LEN, len);
  r.setI32(at, W_WRITE, writeDigest === undefined ? 0 : 1);
  r.setDigest(at, W_DIGEST, writeDigest ?? 0);
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
  /** The head, process, ret, gpa (u64), len, and a WriteMemory's digest. */
  readonly maxBinaryBytes = HOT_HEAD_BYTES + 4 + 4 + 8 + 4 + 5;

  protected binaryTag(): number {
    return this.records.i32(this.rec, W_WRITE) === 1 ? TAG_WRITE_MEMORY : TAG_READ_MEMORY;
  }

  protected writeBinaryBody(out: Buffer, pos: number): number {
    const r = this.records;
    const rec = this.rec;
    pos = putU32(out, pos, r.i32(rec, W_PROCESS));
    pos = putU32(out, pos, r.i32(rec, W_RET));
    pos = putU64(out, pos, r.f64(rec, W_GPA));
    pos = putU32(out, pos, r.u32(rec, W_LEN));
    return r.i32(rec, W_WRITE) === 1 ? putDigest(out, pos, r, rec, W_DIGEST) : pos;
  }

  protected writeBody(out: Buffer, pos: number): number {
    const r = this.records;
    const rec = this.rec;
    const write = r.i32(rec, W_WRITE) === 1;
    pos = put(out, pos, write ? WRITE : READ);
    pos = writeInt(out, pos, r.i32(rec, W_PROCESS));
    pos = put(out, pos, RET);
    pos = writeInt(out, pos, r.i32(rec, W_RET));
    pos = put(out, pos, GPA);
    pos = writeInt(out, pos, r.f64(rec, W_GPA));
    pos = put(out, pos, LEN);
    pos = writeInt(out, pos, r.u32(rec, W_LEN));
    if (write) {
      pos = put(out, pos, DIGEST);
      pos = writeDigest(out, pos, r, rec, W_DIGEST);
      out[pos++] = 0x22;
    }
    out[pos++] = 0x7d; // the end of `value`
    return pos;
  }
}
