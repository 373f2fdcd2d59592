// SPDX-License-Identifier: Apache-2.0
/**
 * AVAIL and USED records, the data plane of virtio-argo "ring-sync" (virtio-argo.md §4.6), pure
 * and without I/O. An EVENT_AVAIL message tells the back end about new available chains without
 * a single guest address: per chain its head, its segment lengths and WRITE flags, and the
 * device-readable bytes inline. An EVENT_USED message returns, per completed chain, the head,
 * `written_len` and the device-written bytes inline. Both payloads are
 *
 *   `le16 queue; le16 count; le32 reserved (0)`, then `count` records, then the data section:
 *   every record's inline bytes, concatenated in record order.
 *
 * Putting the data after all the records is what lets the front end's sendv iovs point straight
 * at the driver's buffers (one iov for the header and records, one per data piece, at most
 * eight, `ARGO_MAXIOV`). A chain larger than one message is split into fragments; a fragment's
 * record says which (`frag`, counting from 0) and whether it is the last (flag LAST).
 *
 * AVAIL record (16 bytes, then `nseg` 8-byte segments in fragment 0 only):
 *   `le16 head; le16 nseg; le16 frag; le16 flags; le32 inline_len; le32 total_readable`,
 *   segment `le32 len; le16 flags (VIRTQ_DESC_F_WRITE = 2); le16 reserved`.
 * USED record (16 bytes): `le16 head; le16 frag; le16 flags; le16 reserved; le32 written_len;
 *   le32 inline_len`.
 */
import { VioaCursor, VioaDecodeError } from "./messages.js";

export const DATA_EVENT_HEADER_SIZE = 8;
export const AVAIL_RECORD_SIZE = 16;
export const AVAIL_SEGMENT_SIZE = 8;
export const USED_RECORD_SIZE = 16;
export const RECORD_F_LAST = 1;
export const SEGMENT_F_WRITE = 2;

/** One segment of an available chain, as the back end learns it (no address). */
export interface RecordSegment {
  readonly len: number;
  readonly writable: boolean;
}

export interface AvailRecord {
  readonly head: number;
  readonly frag: number;
  readonly last: boolean;
  /** Fragment 0 only; empty in continuations. */
  readonly segments: readonly RecordSegment[];
  /** Device-readable bytes of the whole chain (repeated in every fragment). */
  readonly totalReadable: number;
  readonly inlineLen: number;
}

export interface UsedRecord {
  readonly head: number;
  readonly frag: number;
  readonly last: boolean;
  readonly writtenLen: number;
  readonly inlineLen: number;
}

/** A decoded record with its inline bytes (a view of the message). */
export type WithData<R> = R & { readonly data: Uint8Array };

export interface DataEvent<R> {
  readonly queue: number;
  readonly records: readonly WithData<R>[];
}

/** Limits a decoder enforces (a hostile peer picks every number). */
export interface RecordLimits {
  /** Most records in one message. */
  readonly maxRecords: number;
  /** Most segments in one chain (the queue size). */
  readonly maxSegments: number;
}

function dataEventHeader(queue: number, count: number): Uint8Array {
  const out = new Uint8Array(DATA_EVENT_HEADER_SIZE);
  const v = new DataView(out.buffer);
  v.setUint16(0, queue, true);
  v.setUint16(2, count, true);
  return out;
}

/** Bytes the records of an AVAIL message take (without the data section). */
export function availRecordBytes(r: Pick<AvailRecord, "segments">): number {
  return AVAIL_RECORD_SIZE + r.segments.length * AVAIL_SEGMENT_SIZE;
}

/** The event header and the records of an EVENT_AVAIL payload (the data section is sent separately). */
export function encodeAvailRecords(queue: number, records: readonly AvailRecord[]): Uint8Array {
  const size = DATA_EVENT_HEADER_SIZE + records.reduce((n, r) => n + availRecordBytes(r), 0);
  const out = new Uint8Array(size);
  out.set(dataEventHeader(queue, records.length), 0);
  const v = new DataView(out.buffer);
  let at = DATA_EVENT_HEADER_SIZE;
  for (const r of records) {
    v.setUint16(at, r.head, true);
    v.setUint16(at + 2, r.segments.length, true);
    v.setUint16(at + 4, r.frag, true);
    v.setUint16(at + 6, r.last ? RECORD_F_LAST : 0, true);
    v.setUint32(at + 8, r.inlineLen, true);
    v.setUint32(at + 12, r.totalReadable, true);
    at += AVAIL_RECORD_SIZE;
    for (const s of r.segments) {
      v.setUint32(at, s.len, true);
      v.setUint16(at + 4, s.writable ? SEGMENT_F_WRITE : 0, true);
      at += AVAIL_SEGMENT_SIZE;
    }
  }
  return out;
}

function readEventHeader(c: VioaCursor, limits: RecordLimits): { queue: number; count: number } {
  const queue = c.u16("queue");
  const count = c.u16("count");
  if (c.u32("reserved") !== 0) throw new VioaDecodeError("reserved event field not zero");
  if (count === 0 || count > limits.maxRecords)
    throw new VioaDecodeError(`record count ${count} not in [1, ${limits.maxRecords}]`);
  return { queue, count };
}

/** Splits the data section among the records by their `inline_len`, which must add up exactly. */
function attachData<R extends { inlineLen: number }>(c: VioaCursor, records: R[]): WithData<R>[] {
  const total = records.reduce((n, r) => n + r.inlineLen, 0);
  if (total !== c.left)
    throw new VioaDecodeError(`records claim ${total} inline bytes, ${c.left} present`);
  return records.map((r) => ({ ...r, data: c.take(r.inlineLen, "inline data") }));
}

/** Decodes an EVENT_AVAIL payload (§4.9: the back end validates every record). */
export function decodeAvailEvent(
  payload: Uint8Array,
  limits: RecordLimits,
): DataEvent<AvailRecord> {
  const c = new VioaCursor(payload);
  const { queue, count } = readEventHeader(c, limits);
  const records: AvailRecord[] = [];
  for (let i = 0; i < count; i++) {
    const head = c.u16("head");
    const nseg = c.u16("nseg");
    const frag = c.u16("frag");
    const flags = c.u16("flags");
    const inlineLen = c.u32("inline_len");
    const totalReadable = c.u32("total_readable");
    if ((flags & ~RECORD_F_LAST) !== 0)
      throw new VioaDecodeError(`record flags 0x${flags.toString(16)}`);
    if (frag === 0 ? nseg === 0 || nseg > limits.maxSegments : nseg !== 0) {
      throw new VioaDecodeError(
        `fragment ${frag} with ${nseg} segments (at most ${limits.maxSegments}, only in fragment 0)`,
      );
    }
    const segments: RecordSegment[] = [];
    let readable = 0;
    let sawWritable = false;
    for (let s = 0; s < nseg; s++) {
      const len = c.u32("segment len");
      const sflags = c.u16("segment flags");
      if (c.u16("segment reserved") !== 0 || (sflags & ~SEGMENT_F_WRITE) !== 0)
        throw new VioaDecodeError("bad segment flags");
      const writable = (sflags & SEGMENT_F_WRITE) !== 0;
      if (!writable && sawWritable)
        throw new VioaDecodeError("device-readable segment after a writable one");
      sawWritable ||= writable;
      if (!writable) readable += len;
      segments.push({ len, writable });
    }
    if (frag === 0 && readable !== totalReadable)
      throw new VioaDecodeError(`total_readable ${totalReadable} != segments' ${readable}`);
    if (inlineLen > totalReadable)
      throw new VioaDecodeError(`inline_len ${inlineLen} > total_readable ${totalReadable}`);
    records.push({
      head,
      frag,
      last: (flags & RECORD_F_LAST) !== 0,
      segments,
      totalReadable,
      inlineLen,
    });
  }
  return { queue, records: attachData(c, records) };
}

/**
 * An EVENT_USED payload as parts to send back to back: `head`, the event header and the records
 * after `prefix` bytes left for the caller, then `data`, each record's data as it was given
 * (views, not copies; none for a record without data). The back end stages the
 * parts one after another, so the 1 MiB a read returns is copied once on its way into the
 * staging write instead of three times (into this payload, into the message, into staging).
 */
export function usedEventParts(
  queue: number,
  records: readonly WithData<Omit<UsedRecord, "inlineLen">>[],
  prefix = 0,
): { head: Uint8Array; data: Uint8Array[] } {
  const head = new Uint8Array(prefix + DATA_EVENT_HEADER_SIZE + records.length * USED_RECORD_SIZE);
  head.set(dataEventHeader(queue, records.length), prefix);
  const v = new DataView(head.buffer);
  let at = prefix + DATA_EVENT_HEADER_SIZE;
  const data: Uint8Array[] = [];
  for (const r of records) {
    v.setUint16(at, r.head, true);
    v.setUint16(at + 2, r.frag, true);
    v.setUint16(at + 4, r.last ? RECORD_F_LAST : 0, true);
    v.setUint32(at + 8, r.writtenLen, true);
    v.setUint32(at + 12, r.data.length, true);
    at += USED_RECORD_SIZE;
    if (r.data.length > 0) data.push(r.data);
  }
  return { head, data };
}

/** A whole EVENT_USED payload in one buffer: header, records, data. */
export function encodeUsedEvent(
  queue: number,
  records: readonly WithData<Omit<UsedRecord, "inlineLen">>[],
): Uint8Array {
  const { head, data } = usedEventParts(queue, records);
  const parts = [head, ...data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes an EVENT_USED payload (§4.9: the front end validates every record). */
export function decodeUsedEvent(payload: Uint8Array, limits: RecordLimits): DataEvent<UsedRecord> {
  const c = new VioaCursor(payload);
  const { queue, count } = readEventHeader(c, limits);
  const records: UsedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const head = c.u16("head");
    const frag = c.u16("frag");
    const flags = c.u16("flags");
    if (c.u16("reserved") !== 0 || (flags & ~RECORD_F_LAST) !== 0)
      throw new VioaDecodeError("bad used record flags");
    const writtenLen = c.u32("written_len");
    const inlineLen = c.u32("inline_len");
    if (inlineLen > writtenLen)
      throw new VioaDecodeError(`inline_len ${inlineLen} > written_len ${writtenLen}`);
    records.push({ head, frag, last: (flags & RECORD_F_LAST) !== 0, writtenLen, inlineLen });
  }
  return { queue, records: attachData(c, records) };
}
