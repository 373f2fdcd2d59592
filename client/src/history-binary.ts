// SPDX-License-Identifier: Apache-2.0
/**
 * The decoder of the hypervisor's binary history format (`GET /v1/history?format=binary`,
 * docs/harness.md "Binary format"): each binary frame is the magic "HXB", the version, then
 * entries back to back. It yields the same event objects `JSON.parse` gives for the JSON stream
 * (same keys in the same order, same values, `time` the same RFC 3339 string with nanoseconds).
 * A damaged, short or unknown-version frame throws a `HistoryDecodeError` naming the offset and
 * what was there, and yields no event at all (a frame is decoded whole before anything is
 * returned).
 */
import type { HistoryEvent } from "./history-subscriber.js";

const MAGIC = [0x48, 0x58, 0x42];
export const HISTORY_BINARY_VERSION = 1;
const TAG_SENDV_OK = 0x01;
const TAG_SENDV_FAIL = 0x02;
const TAG_READ_MEMORY = 0x03;
const TAG_WRITE_MEMORY = 0x04;
const TAG_JSON = 0x05;
/** Bytes after the tag of each fixed-layout entry (a failed sendv's label follows its own). */
const FIXED_BYTES: Record<number, number> = {
  [TAG_SENDV_OK]: 16 + 32 + 5,
  [TAG_SENDV_FAIL]: 16 + 32 + 1,
  [TAG_READ_MEMORY]: 16 + 20,
  [TAG_WRITE_MEMORY]: 16 + 20 + 5,
  [TAG_JSON]: 4,
};

export class HistoryDecodeError extends Error {
  override readonly name = "HistoryDecodeError";
}

const U32 = 4294967296;
const NS = 1e9;
const HEX = "0123456789abcdef";

/** RFC 3339 seconds prefixes, one second at a time (events come in time order). */
let cachedSecond = -1;
let cachedPrefix = "";

/** The RFC 3339 time of `lo`, `hi`: a u64 of nanoseconds since the epoch. */
function rfc3339(lo: number, hi: number): string {
  // Long division by 1e9 in 16-bit limbs, every step an exact double (the count is near 2^61).
  const t1 = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(t1 / NS);
  const t2 = (t1 - q1 * NS) * 65536 + (lo & 0xffff);
  const q2 = Math.floor(t2 / NS);
  const ns = t2 - q2 * NS;
  const second = q1 * 65536 + q2;
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return `${cachedPrefix}.${String(ns).padStart(9, "0")}Z`;
}

function digest(present: number, value: number): string {
  if (present === 0) return "";
  let hex = "";
  for (let i = 7; i >= 0; i--) hex += HEX.charAt((value >>> (i * 4)) & 0xf);
  return `crc32:${hex}`;
}

/** The events of one binary frame, in order; throws `HistoryDecodeError` on a bad frame. */
export function decodeHistoryFrame(frame: Uint8Array): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const onEvent = (event: HistoryEvent): void => {
    events.push(event);
  };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const end = frame.byteLength;
  if (end < 4)
    throw new HistoryDecodeError(
      `binary history frame of ${end} bytes: shorter than its 4-byte magic and version`,
    );
  if (frame[0] !== MAGIC[0] || frame[1] !== MAGIC[1] || frame[2] !== MAGIC[2])
    throw new HistoryDecodeError(
      `binary history frame starts with 0x${Buffer.from(frame.subarray(0, 3)).toString("hex")}, not the magic "HXB" (0x485842)`,
    );
  if (frame[3] !== HISTORY_BINARY_VERSION)
    throw new HistoryDecodeError(
      `binary history frame of version ${frame[3]} at offset 3: this decoder reads version ${HISTORY_BINARY_VERSION}`,
    );
  let pos = 4;
  while (pos < end) {
    const tag = view.getUint8(pos);
    const fixed = FIXED_BYTES[tag];
    if (fixed === undefined)
      throw new HistoryDecodeError(
        `binary history entry at offset ${pos}: unknown tag 0x${tag.toString(16)}`,
      );
    if (pos + 1 + fixed > end)
      throw new HistoryDecodeError(
        `binary history entry at offset ${pos} (tag 0x${tag.toString(16)}): needs ${1 + fixed} bytes, the frame has ${end - pos}`,
      );
    const at = pos;
    pos++;
    if (tag === TAG_JSON) {
      const n = view.getUint32(pos, true);
      pos += 4;
      if (pos + n > end)
        throw new HistoryDecodeError(
          `binary history JSON entry at offset ${at}: says ${n} bytes, the frame has ${end - pos}`,
        );
      let event: HistoryEvent;
      try {
        event = JSON.parse(
          Buffer.from(frame.buffer, frame.byteOffset + pos, n).toString("utf8"),
        ) as HistoryEvent;
      } catch (err) {
        throw new HistoryDecodeError(
          `binary history JSON entry at offset ${at}: ${(err as Error).message}`,
        );
      }
      pos += n;
      onEvent(event);
      continue;
    }
    const seq = view.getUint32(pos, true) + view.getUint32(pos + 4, true) * U32;
    const time = rfc3339(view.getUint32(pos + 8, true), view.getUint32(pos + 12, true));
    pos += 16;
    const process = view.getInt32(pos, true);
    const ret = view.getInt32(pos + 4, true);
    if (tag === TAG_READ_MEMORY || tag === TAG_WRITE_MEMORY) {
      const gpa = view.getUint32(pos + 8, true) + view.getUint32(pos + 12, true) * U32;
      const len = view.getUint32(pos + 16, true);
      pos += 20;
      if (tag === TAG_READ_MEMORY) {
        onEvent({
          seq,
          time,
          kind: "hypercall",
          type: "ok",
          f: "readMemory",
          process,
          ret,
          value: { gpa, len },
        });
        continue;
      }
      const d = digest(view.getUint8(pos), view.getUint32(pos + 1, true));
      pos += 5;
      onEvent({
        seq,
        time,
        kind: "hypercall",
        type: "ok",
        f: "writeMemory",
        process,
        ret,
        value: { gpa, len, digest: d },
      });
      continue;
    }
    const src = { domid: view.getInt32(pos + 8, true), aport: view.getUint32(pos + 12, true) };
    const dst = { domid: view.getInt32(pos + 16, true), aport: view.getUint32(pos + 20, true) };
    const messageType = view.getUint32(pos + 24, true);
    const len = view.getUint32(pos + 28, true);
    pos += 32;
    if (tag === TAG_SENDV_OK) {
      const d = digest(view.getUint8(pos), view.getUint32(pos + 1, true));
      pos += 5;
      onEvent({
        seq,
        time,
        kind: "hypercall",
        type: "ok",
        f: "sendv",
        process,
        ret,
        value: { src, dst, messageType, len, digest: d },
      });
      continue;
    }
    const n = view.getUint8(pos);
    pos++;
    if (pos + n > end)
      throw new HistoryDecodeError(
        `binary history failed-sendv entry at offset ${at}: its error label says ${n} bytes, the frame has ${end - pos}`,
      );
    const error = Buffer.from(frame.buffer, frame.byteOffset + pos, n).toString("latin1");
    pos += n;
    onEvent({
      seq,
      time,
      kind: "hypercall",
      type: "fail",
      f: "sendv",
      process,
      ret,
      value: { src, dst, messageType, len },
      error,
    });
  }
  return events;
}
