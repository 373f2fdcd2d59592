// SPDX-License-Identifier: Apache-2.0
/**
 * Cuts chains into virtio-argo data messages that fit the receiver's ring (virtio-argo.md §4.6:
 * "a large chain is split into fragments of at most the ring maximum message size"; Xen's
 * `XEN_ARGO_MAXIOV` = 8 iovs per sendv). Pure.
 *
 * - `packAvail` (front end): many small chains share one EVENT_AVAIL message; the message is
 *   one iov of header + records (staged) followed by at most seven iovs that point straight at
 *   the driver's device-readable buffers, split mid-buffer when a message is full.
 * - `packUsed` (back end): completed chains with their device-written bytes become EVENT_USED
 *   payloads of at most the front end's maximum message size.
 */
import { ARGO_MAXIOV } from "@hmx/proto/abi";
import { VIOA_HEADER_SIZE } from "./messages.js";
import {
  AVAIL_RECORD_SIZE,
  AVAIL_SEGMENT_SIZE,
  DATA_EVENT_HEADER_SIZE,
  USED_RECORD_SIZE,
  type AvailRecord,
  type WithData,
  type UsedRecord,
} from "./records.js";

/** A chain as the front end's shim sees it: its head and its segments in the driver's memory. */
export interface LocalChain {
  readonly head: number;
  readonly segments: readonly {
    readonly addr: number;
    readonly len: number;
    readonly writable: boolean;
  }[];
}

/** One EVENT_AVAIL message: its records and the driver memory its data section comes from. */
export interface AvailMessage {
  readonly records: AvailRecord[];
  readonly pieces: { gpa: number; len: number }[];
}

/** The chain cannot be sent at all (its record alone is larger than a message). */
export class FragmentError extends Error {
  override readonly name = "FragmentError";
}

const DATA_IOVS = ARGO_MAXIOV - 1;

/**
 * Packs chains into EVENT_AVAIL messages of at most `maxMessage` bytes (inner header included)
 * and at most `maxRecords` records each.
 */
export function packAvail(
  chains: readonly LocalChain[],
  maxMessage: number,
  maxRecords = 64,
): AvailMessage[] {
  const out: AvailMessage[] = [];
  let cur: AvailMessage = { records: [], pieces: [] };
  let size = VIOA_HEADER_SIZE + DATA_EVENT_HEADER_SIZE;
  const flush = (): void => {
    if (cur.records.length > 0) out.push(cur);
    cur = { records: [], pieces: [] };
    size = VIOA_HEADER_SIZE + DATA_EVENT_HEADER_SIZE;
  };
  for (const chain of chains) {
    const segments = chain.segments.map((s) => ({ len: s.len, writable: s.writable }));
    const data = chain.segments.filter((s) => !s.writable && s.len > 0);
    const totalReadable = data.reduce((n, s) => n + s.len, 0);
    const fragCap = fragmentCap(totalReadable, maxMessage, segments.length);
    let piece = 0;
    let pieceOff = 0;
    let remaining = totalReadable;
    // Bounded: every pass either places at least one byte (or the whole empty chain) or flushes a
    // non-empty message, and a fresh message always has room for a record plus one byte.
    for (let frag = 0, guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new FragmentError("fragmenter made no progress");
      const recBytes = AVAIL_RECORD_SIZE + (frag === 0 ? segments.length * AVAIL_SEGMENT_SIZE : 0);
      const needData = remaining > 0;
      const fits =
        size + recBytes + (needData ? 1 : 0) <= maxMessage &&
        (!needData || cur.pieces.length < DATA_IOVS) &&
        cur.records.length < maxRecords;
      if (!fits) {
        if (cur.records.length === 0)
          throw new FragmentError(
            `a ${recBytes}-byte record does not fit a ${maxMessage}-byte message`,
          );
        flush();
        continue;
      }
      size += recBytes;
      let inline = 0;
      while (
        remaining > 0 &&
        inline < fragCap &&
        cur.pieces.length < DATA_IOVS &&
        size < maxMessage
      ) {
        const s = data[piece];
        if (s === undefined) break;
        const take = Math.min(s.len - pieceOff, maxMessage - size, fragCap - inline);
        cur.pieces.push({ gpa: s.addr + pieceOff, len: take });
        size += take;
        inline += take;
        remaining -= take;
        pieceOff += take;
        if (pieceOff === s.len) {
          piece++;
          pieceOff = 0;
        }
      }
      const last = remaining === 0;
      cur.records.push({
        head: chain.head,
        frag,
        last,
        segments: frag === 0 ? segments : [],
        totalReadable,
        inlineLen: inline,
      });
      if (last) break;
      flush();
      frag++;
    }
  }
  flush();
  return out;
}

/**
 * The most readable bytes one fragment of a chain carries: unbounded for a chain that fits one
 * message, else the chain's bytes spread evenly over as many messages as it needs. Full
 * fragments and a small tail (a 1 MiB write was four ring-sized fragments and one of about
 * 600 bytes) make the receiver's VIRQ-pass prefetch, sized by the last burst, read a whole
 * ring's worth for the tail and then too little for the next chain's first fragment; even
 * fragments are the same number of messages and each prefetch matches the next one.
 */
export function fragmentCap(totalReadable: number, maxMessage: number, nsegs: number): number {
  const room =
    maxMessage -
    VIOA_HEADER_SIZE -
    DATA_EVENT_HEADER_SIZE -
    AVAIL_RECORD_SIZE -
    nsegs * AVAIL_SEGMENT_SIZE;
  if (room <= 0 || totalReadable <= room) return Number.POSITIVE_INFINITY;
  return Math.ceil(totalReadable / Math.ceil(totalReadable / room));
}

/** A completed chain on the back end: head, `written_len` and the bytes written. */
export interface CompletedChain {
  readonly head: number;
  readonly writtenLen: number;
  readonly data: Uint8Array;
}

/** Packs completions into EVENT_USED record lists, each fitting `maxMessage` bytes. */
export function packUsed(
  done: readonly CompletedChain[],
  maxMessage: number,
  maxRecords = 64,
): WithData<Omit<UsedRecord, "inlineLen">>[][] {
  const room = maxMessage - VIOA_HEADER_SIZE - DATA_EVENT_HEADER_SIZE;
  if (room <= USED_RECORD_SIZE)
    throw new FragmentError(`messages of ${maxMessage} bytes cannot carry a used record`);
  const out: WithData<Omit<UsedRecord, "inlineLen">>[][] = [];
  let cur: WithData<Omit<UsedRecord, "inlineLen">>[] = [];
  let size = 0;
  const flush = (): void => {
    if (cur.length > 0) out.push(cur);
    cur = [];
    size = 0;
  };
  for (const c of done) {
    let off = 0;
    for (let frag = 0; ; frag++) {
      if (
        size + USED_RECORD_SIZE + (off < c.data.length ? 1 : 0) > room ||
        cur.length >= maxRecords
      )
        flush();
      const take = Math.min(c.data.length - off, room - size - USED_RECORD_SIZE);
      const last = off + take === c.data.length;
      cur.push({
        head: c.head,
        frag,
        last,
        writtenLen: c.writtenLen,
        data: c.data.subarray(off, off + take),
      });
      size += USED_RECORD_SIZE + take;
      off += take;
      if (last) break;
      flush();
    }
  }
  flush();
  return out;
}
