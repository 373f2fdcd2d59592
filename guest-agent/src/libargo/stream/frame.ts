// SPDX-License-Identifier: Apache-2.0
/**
 * The wire format of Argo stream sockets. Every stream message is one Argo datagram (the
 * datagram layer carries it with `ARGO_PROTO_DGRAM`; libargo's datagram sockets drop every
 * other message type) whose payload starts with this 32-byte header:
 *
 *   u32 magic   0x3574526d (OpenXT's ARGO_PROTO_STREAM: a datagram that is not a stream frame
 *               is dropped, not misread)
 *   u8  version 1
 *   u8  type    SYN, ACK, DATA, WINDOW, FIN, RST, PING, PONG
 *   u8  reason  RST only: why the connection was reset
 *   u8  flags   reserved, 0
 *   u32 connId  the connection id the connector chose (the Linux driver's `conid`)
 *   u64 seq     DATA / FIN: stream offset of the first payload byte (FIN: the final length);
 *               SYN / ACK: the largest DATA payload the sender's ring takes in one message
 *   u64 credit  SYN / ACK / WINDOW / PONG: the sender's receive limit, an absolute offset: the
 *               peer may send bytes up to (not including) this offset
 *
 * then, for DATA, the bytes. Offsets are absolute (u64 on the wire, safe integers here), so a
 * frame's place in the stream is explicit and a receiver can refuse a gap or a duplicate instead
 * of delivering it.
 */
import { ARGO_PROTO_STREAM } from "@hmx/proto/abi";

export const STREAM_MAGIC = ARGO_PROTO_STREAM;
export const STREAM_VERSION = 1;
export const FRAME_HEADER_SIZE = 32;

/** Frame types; the Linux driver's SYN / ACK / RST / PING / PONG plus data, window and FIN. */
export const FrameType = {
  SYN: 1,
  ACK: 2,
  DATA: 3,
  WINDOW: 4,
  FIN: 5,
  RST: 6,
  PING: 7,
  PONG: 8,
} as const;
export type FrameTypeName = keyof typeof FrameType;
export type FrameTypeValue = (typeof FrameType)[FrameTypeName];

/** Why a connection was reset (the RST frame's reason byte). */
export const ResetReason = {
  /** The application aborted the connection. */
  ABORT: 1,
  /** No connection with this id at the receiver (stale or never set up). */
  UNKNOWN_CONNECTION: 2,
  /** The listener is at its connection limit. */
  LIMIT: 3,
  /** The listener is closing. */
  CLOSING: 4,
  /** The peer broke the protocol (gap, overrun, bad frame). */
  PROTOCOL: 5,
  /** The peer stopped answering keepalives. */
  TIMEOUT: 6,
} as const;
export type ResetReasonValue = (typeof ResetReason)[keyof typeof ResetReason];

const typeNames = new Map<number, FrameTypeName>(
  (Object.entries(FrameType) as [FrameTypeName, number][]).map(([n, v]) => [v, n]),
);
const reasonNames = new Map<number, string>(
  Object.entries(ResetReason).map(([n, v]) => [v, n.toLowerCase().replace("_", " ")]),
);

/** One decoded frame. `data` is empty except for DATA. */
export interface Frame {
  readonly type: FrameTypeValue;
  readonly connId: number;
  readonly seq: number;
  readonly credit: number;
  readonly reason: number;
  readonly data: Buffer;
}

/** The name of a frame type, for logs: "DATA". */
export function frameTypeName(type: number): string {
  return typeNames.get(type) ?? `type ${type}`;
}

/** A reset reason for humans: "limit", "unknown connection". */
export function resetReasonName(reason: number): string {
  return reasonNames.get(reason) ?? `reason ${reason}`;
}

/** Encodes a frame into a fresh buffer (the datagram layer holds it until the sendv is done). */
export function encodeFrame(
  frame: Partial<Frame> & Pick<Frame, "type" | "connId">,
  payload?: Uint8Array,
): Buffer {
  const n = payload?.length ?? 0;
  const buf = Buffer.allocUnsafe(FRAME_HEADER_SIZE + n);
  buf.writeUInt32LE(STREAM_MAGIC, 0);
  buf.writeUInt8(STREAM_VERSION, 4);
  buf.writeUInt8(frame.type, 5);
  buf.writeUInt8(frame.reason ?? 0, 6);
  buf.writeUInt8(0, 7);
  buf.writeUInt32LE(frame.connId >>> 0, 8);
  buf.writeBigUInt64LE(BigInt(frame.seq ?? 0), 12);
  buf.writeBigUInt64LE(BigInt(frame.credit ?? 0), 20);
  buf.writeUInt32LE(0, 28);
  if (payload !== undefined) buf.set(payload, FRAME_HEADER_SIZE);
  return buf;
}

/**
 * Decodes a datagram payload; returns a string naming what is wrong when it is not a valid
 * frame (too short, another protocol, another version, an unknown type, an offset past 2^53, a
 * payload on a frame that carries none).
 */
export function decodeFrame(buf: Buffer): Frame | string {
  if (buf.length < FRAME_HEADER_SIZE) {
    return `frame of ${buf.length} bytes is shorter than the ${FRAME_HEADER_SIZE}-byte header`;
  }
  const magic = buf.readUInt32LE(0);
  if (magic !== STREAM_MAGIC) return `magic 0x${magic.toString(16)} is not a stream frame`;
  const version = buf.readUInt8(4);
  if (version !== STREAM_VERSION)
    return `stream protocol version ${version} is not ${STREAM_VERSION}`;
  const type = buf.readUInt8(5);
  if (!typeNames.has(type)) return `unknown frame type ${type}`;
  const seq = buf.readBigUInt64LE(12);
  const credit = buf.readBigUInt64LE(20);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER) || credit > BigInt(Number.MAX_SAFE_INTEGER)) {
    return `offset beyond 2^53 (seq ${seq}, credit ${credit})`;
  }
  const data = buf.subarray(FRAME_HEADER_SIZE);
  if (type !== FrameType.DATA && data.length > 0) {
    return `${frameTypeName(type)} frame carries ${data.length} payload bytes`;
  }
  return {
    type: type as FrameTypeValue,
    connId: buf.readUInt32LE(8),
    seq: Number(seq),
    credit: Number(credit),
    reason: buf.readUInt8(6),
    data,
  };
}
