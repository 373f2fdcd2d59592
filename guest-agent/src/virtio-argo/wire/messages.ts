// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-argo wire format (virtio-argo.md §4.5 control plane, §4.6 data plane "ring-sync"),
 * pure and without I/O: the 12-byte inner header every message of type "VIOA" starts with, the
 * control requests and responses that stand in for the virtio-mmio registers, and the
 * EVENT_AVAIL / EVENT_USED / EVENT_CONFIG events. Documented in docs/virtio-argo.md "Transport
 * over Argo". All fields little-endian.
 *
 * Header (after virtio-msg, §4.5, with two changes said in the docs): `u8 type` (bit 0 = response,
 * bit 1 = bus message), `u8 msg_id`, `le16 dev_id`, `le16 token` (matches a response to its
 * request), `le16 reserved` (0), `le32 payload_len` — a u32 rather than virtio-msg's le16,
 * because a data message carries up to a ring's worth of inline bytes.
 *
 * Every decoder treats its input as hostile (§4.9): lengths are checked against the bytes
 * actually present before anything is read, counts are bounded, reserved fields must be zero,
 * and a failure is a `VioaDecodeError` naming the rule — never an out-of-bounds read.
 */

/** Message ids, virtio-msg's numbering (virtio-argo.md §4.5 table). */
export const VioaMsg = {
  DEVICE_INFO: 0x02,
  GET_DEV_FEATURES: 0x03,
  SET_DRV_FEATURES: 0x04,
  GET_CONFIG: 0x05,
  SET_CONFIG: 0x06,
  GET_DEVICE_STATUS: 0x07,
  SET_DEVICE_STATUS: 0x08,
  GET_VQUEUE: 0x09,
  SET_VQUEUE: 0x0a,
  RESET_VQUEUE: 0x0b,
  EVENT_CONFIG: 0x40,
  EVENT_AVAIL: 0x41,
  EVENT_USED: 0x42,
} as const;
export type VioaMsg = (typeof VioaMsg)[keyof typeof VioaMsg];

export const VIOA_HEADER_SIZE = 12;
export const VIOA_TYPE_RESPONSE = 1;
/** Most 32-bit feature words (128 feature bits, VirtIO 1.2 §2.2). */
export const VIOA_MAX_FEATURE_WORDS = 4;
/** Largest config access (every hmx device's config is far smaller). */
export const VIOA_MAX_CONFIG_BYTES = 256;

/** A message that breaks the format; `rule` names what was wrong. */
export class VioaDecodeError extends Error {
  override readonly name = "VioaDecodeError";
  constructor(readonly rule: string) {
    super(`malformed virtio-argo message: ${rule}`);
  }
}

export interface VioaHeader {
  readonly response: boolean;
  readonly msgId: number;
  readonly devId: number;
  readonly token: number;
}

/** A decoded message: its header and the payload bytes (a view, not a copy). */
export interface VioaFrame extends VioaHeader {
  readonly payload: Uint8Array;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Encodes the inner header for a payload of `payloadLen` bytes. */
export function encodeHeader(h: VioaHeader, payloadLen: number): Uint8Array {
  const out = new Uint8Array(VIOA_HEADER_SIZE);
  const v = view(out);
  v.setUint8(0, h.response ? VIOA_TYPE_RESPONSE : 0);
  v.setUint8(1, h.msgId);
  v.setUint16(2, h.devId, true);
  v.setUint16(4, h.token, true);
  v.setUint16(6, 0, true);
  v.setUint32(8, payloadLen, true);
  return out;
}

/** Header plus payload in one buffer. */
export function encodeMessage(h: VioaHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(VIOA_HEADER_SIZE + payload.length);
  out.set(encodeHeader(h, payload.length), 0);
  out.set(payload, VIOA_HEADER_SIZE);
  return out;
}

/** Splits a message into header and payload; checks type bits, reserved and length. */
export function decodeFrame(msg: Uint8Array): VioaFrame {
  if (msg.length < VIOA_HEADER_SIZE) throw new VioaDecodeError("shorter than the 12-byte header");
  const v = view(msg);
  const type = v.getUint8(0);
  if ((type & ~VIOA_TYPE_RESPONSE) !== 0)
    throw new VioaDecodeError(`type 0x${type.toString(16)} has unknown or bus bits`);
  if (v.getUint16(6, true) !== 0) throw new VioaDecodeError("reserved header field not zero");
  const payloadLen = v.getUint32(8, true);
  if (payloadLen !== msg.length - VIOA_HEADER_SIZE)
    throw new VioaDecodeError(
      `payload_len ${payloadLen} != ${msg.length - VIOA_HEADER_SIZE} bytes present`,
    );
  return {
    response: (type & VIOA_TYPE_RESPONSE) !== 0,
    msgId: v.getUint8(1),
    devId: v.getUint16(2, true),
    token: v.getUint16(4, true),
    payload: msg.subarray(VIOA_HEADER_SIZE),
  };
}

// ---- Control requests (§4.5) -------------------------------------------------------------

export type ControlRequest =
  | { readonly id: typeof VioaMsg.DEVICE_INFO }
  | { readonly id: typeof VioaMsg.GET_DEV_FEATURES; readonly index: number; readonly num: number }
  | {
      readonly id: typeof VioaMsg.SET_DRV_FEATURES;
      readonly index: number;
      readonly words: readonly number[];
    }
  | { readonly id: typeof VioaMsg.GET_CONFIG; readonly offset: number; readonly size: number }
  | {
      readonly id: typeof VioaMsg.SET_CONFIG;
      readonly generation: number;
      readonly offset: number;
      readonly bytes: Uint8Array;
    }
  | { readonly id: typeof VioaMsg.GET_DEVICE_STATUS }
  | { readonly id: typeof VioaMsg.SET_DEVICE_STATUS; readonly status: number }
  | { readonly id: typeof VioaMsg.GET_VQUEUE; readonly index: number }
  | { readonly id: typeof VioaMsg.SET_VQUEUE; readonly index: number; readonly size: number }
  | { readonly id: typeof VioaMsg.RESET_VQUEUE; readonly index: number };

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = view(out);
  values.forEach((x, i) => {
    v.setUint32(i * 4, x >>> 0, true);
  });
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The payload of a control request. */
export function encodeControlRequest(r: ControlRequest): Uint8Array {
  switch (r.id) {
    case VioaMsg.DEVICE_INFO:
    case VioaMsg.GET_DEVICE_STATUS:
      return new Uint8Array(0);
    case VioaMsg.GET_DEV_FEATURES:
      return u32s(r.index, r.num);
    case VioaMsg.SET_DRV_FEATURES:
      return u32s(r.index, r.words.length, ...r.words);
    case VioaMsg.GET_CONFIG:
      return u32s(r.offset, r.size);
    case VioaMsg.SET_CONFIG:
      return concat(u32s(r.generation, r.offset, r.bytes.length), r.bytes);
    case VioaMsg.SET_DEVICE_STATUS:
      return u32s(r.status);
    case VioaMsg.GET_VQUEUE:
    case VioaMsg.RESET_VQUEUE:
      return u32s(r.index);
    case VioaMsg.SET_VQUEUE:
      return u32s(r.index, r.size);
  }
}

/** A bounds-checked little-endian reader over a payload. */
class Cursor {
  #at = 0;
  readonly #v: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.#v = view(bytes);
  }
  get left(): number {
    return this.bytes.length - this.#at;
  }
  u32(what: string): number {
    if (this.left < 4) throw new VioaDecodeError(`truncated before ${what}`);
    const x = this.#v.getUint32(this.#at, true);
    this.#at += 4;
    return x;
  }
  i32(what: string): number {
    if (this.left < 4) throw new VioaDecodeError(`truncated before ${what}`);
    const x = this.#v.getInt32(this.#at, true);
    this.#at += 4;
    return x;
  }
  u16(what: string): number {
    if (this.left < 2) throw new VioaDecodeError(`truncated before ${what}`);
    const x = this.#v.getUint16(this.#at, true);
    this.#at += 2;
    return x;
  }
  take(n: number, what: string): Uint8Array {
    if (n > this.left)
      throw new VioaDecodeError(`${what}: ${n} bytes claimed, ${this.left} present`);
    const b = this.bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return b;
  }
  end(what: string): void {
    if (this.left !== 0) throw new VioaDecodeError(`${this.left} trailing bytes after ${what}`);
  }
}

/** Decodes the payload of control request `msgId`. */
export function decodeControlRequest(msgId: number, payload: Uint8Array): ControlRequest {
  const c = new Cursor(payload);
  let r: ControlRequest;
  switch (msgId) {
    case VioaMsg.DEVICE_INFO:
    case VioaMsg.GET_DEVICE_STATUS:
      r = { id: msgId };
      break;
    case VioaMsg.GET_DEV_FEATURES: {
      const index = c.u32("index");
      const num = c.u32("num");
      if (num > VIOA_MAX_FEATURE_WORDS || index > VIOA_MAX_FEATURE_WORDS)
        throw new VioaDecodeError(`feature words index ${index} num ${num}`);
      r = { id: msgId, index, num };
      break;
    }
    case VioaMsg.SET_DRV_FEATURES: {
      const index = c.u32("index");
      const num = c.u32("num");
      if (num > VIOA_MAX_FEATURE_WORDS || index + num > VIOA_MAX_FEATURE_WORDS)
        throw new VioaDecodeError(`feature words index ${index} num ${num}`);
      const words: number[] = [];
      for (let i = 0; i < num; i++) words.push(c.u32("feature word"));
      r = { id: msgId, index, words };
      break;
    }
    case VioaMsg.GET_CONFIG: {
      const offset = c.u32("offset");
      const size = c.u32("size");
      if (size > VIOA_MAX_CONFIG_BYTES) throw new VioaDecodeError(`config read of ${size} bytes`);
      r = { id: msgId, offset, size };
      break;
    }
    case VioaMsg.SET_CONFIG: {
      const generation = c.u32("generation");
      const offset = c.u32("offset");
      const size = c.u32("size");
      if (size > VIOA_MAX_CONFIG_BYTES) throw new VioaDecodeError(`config write of ${size} bytes`);
      r = { id: msgId, generation, offset, bytes: c.take(size, "config bytes").slice() };
      break;
    }
    case VioaMsg.SET_DEVICE_STATUS: {
      const status = c.u32("status");
      if (status > 0xff) throw new VioaDecodeError(`status ${status} is not a u8`);
      r = { id: msgId, status };
      break;
    }
    case VioaMsg.GET_VQUEUE:
    case VioaMsg.RESET_VQUEUE:
      r = { id: msgId, index: c.u32("index") };
      break;
    case VioaMsg.SET_VQUEUE:
      r = { id: msgId, index: c.u32("index"), size: c.u32("size") };
      break;
    default:
      throw new VioaDecodeError(`unknown request id 0x${msgId.toString(16)}`);
  }
  c.end("the request");
  return r;
}

// ---- Control responses -------------------------------------------------------------------

/** What a response carries beyond `ret` (0 or a negative errno). */
export type ControlResponseBody =
  | {
      readonly id: typeof VioaMsg.DEVICE_INFO;
      readonly deviceId: number;
      readonly vendorId: number;
      readonly numFeatureBits: number;
      readonly configSize: number;
      readonly maxVqCount: number;
    }
  | {
      readonly id: typeof VioaMsg.GET_DEV_FEATURES;
      readonly index: number;
      readonly words: readonly number[];
    }
  | {
      readonly id: typeof VioaMsg.GET_CONFIG;
      readonly generation: number;
      readonly offset: number;
      readonly bytes: Uint8Array;
    }
  | {
      readonly id: typeof VioaMsg.GET_DEVICE_STATUS | typeof VioaMsg.SET_DEVICE_STATUS;
      readonly status: number;
    }
  | { readonly id: typeof VioaMsg.GET_VQUEUE; readonly index: number; readonly maxSize: number }
  | {
      readonly id:
        | typeof VioaMsg.SET_DRV_FEATURES
        | typeof VioaMsg.SET_CONFIG
        | typeof VioaMsg.SET_VQUEUE
        | typeof VioaMsg.RESET_VQUEUE;
    };

export interface ControlResponse {
  readonly ret: number;
  /** Absent when `ret < 0`. */
  readonly body?: ControlResponseBody;
}

/** The payload of a response: `le32 ret`, then the body when `ret >= 0`. */
export function encodeControlResponse(
  id: number,
  ret: number,
  body?: ControlResponseBody,
): Uint8Array {
  const head = new Uint8Array(4);
  view(head).setInt32(0, ret, true);
  if (ret < 0 || body === undefined) return head;
  switch (body.id) {
    case VioaMsg.DEVICE_INFO:
      return concat(
        head,
        u32s(body.deviceId, body.vendorId, body.numFeatureBits, body.configSize, body.maxVqCount),
      );
    case VioaMsg.GET_DEV_FEATURES:
      return concat(head, u32s(body.index, body.words.length, ...body.words));
    case VioaMsg.GET_CONFIG:
      return concat(head, u32s(body.generation, body.offset, body.bytes.length), body.bytes);
    case VioaMsg.GET_DEVICE_STATUS:
    case VioaMsg.SET_DEVICE_STATUS:
      return concat(head, u32s(body.status));
    case VioaMsg.GET_VQUEUE:
      return concat(head, u32s(body.index, body.maxSize));
    case VioaMsg.SET_DRV_FEATURES:
    case VioaMsg.SET_CONFIG:
    case VioaMsg.SET_VQUEUE:
    case VioaMsg.RESET_VQUEUE:
      if (body.id !== id) throw new RangeError("response body for another message");
      return head;
  }
}

/** Decodes the payload of a response to request `id`. */
export function decodeControlResponse(id: number, payload: Uint8Array): ControlResponse {
  const c = new Cursor(payload);
  const ret = c.i32("ret");
  if (ret > 0) throw new VioaDecodeError(`ret ${ret} is positive`);
  if (ret < 0) {
    c.end("an error response");
    return { ret };
  }
  let body: ControlResponseBody;
  switch (id) {
    case VioaMsg.DEVICE_INFO:
      body = {
        id,
        deviceId: c.u32("device_id"),
        vendorId: c.u32("vendor_id"),
        numFeatureBits: c.u32("num_feature_bits"),
        configSize: c.u32("config_size"),
        maxVqCount: c.u32("max_vq_count"),
      };
      if (body.configSize > VIOA_MAX_CONFIG_BYTES || body.maxVqCount > 64)
        throw new VioaDecodeError("implausible device info");
      break;
    case VioaMsg.GET_DEV_FEATURES: {
      const index = c.u32("index");
      const num = c.u32("num");
      if (num > VIOA_MAX_FEATURE_WORDS) throw new VioaDecodeError(`${num} feature words`);
      const words: number[] = [];
      for (let i = 0; i < num; i++) words.push(c.u32("feature word"));
      body = { id, index, words };
      break;
    }
    case VioaMsg.GET_CONFIG: {
      const generation = c.u32("generation");
      const offset = c.u32("offset");
      const size = c.u32("size");
      if (size > VIOA_MAX_CONFIG_BYTES) throw new VioaDecodeError(`config of ${size} bytes`);
      body = { id, generation, offset, bytes: c.take(size, "config bytes").slice() };
      break;
    }
    case VioaMsg.GET_DEVICE_STATUS:
    case VioaMsg.SET_DEVICE_STATUS: {
      const status = c.u32("status");
      if (status > 0xff) throw new VioaDecodeError(`status ${status} is not a u8`);
      body = { id, status };
      break;
    }
    case VioaMsg.GET_VQUEUE:
      body = { id, index: c.u32("index"), maxSize: c.u32("max_size") };
      if (body.maxSize > 32768) throw new VioaDecodeError(`QueueNumMax ${body.maxSize}`);
      break;
    case VioaMsg.SET_DRV_FEATURES:
    case VioaMsg.SET_CONFIG:
    case VioaMsg.SET_VQUEUE:
    case VioaMsg.RESET_VQUEUE:
      body = { id };
      break;
    default:
      throw new VioaDecodeError(`response to unknown request 0x${id.toString(16)}`);
  }
  c.end("the response");
  return { ret, body };
}

// ---- EVENT_CONFIG ---------------------------------------------------------------------------

/** EVENT_CONFIG payload: the device status as the back end sees it, and the config generation. */
export function encodeEventConfig(status: number, generation: number): Uint8Array {
  return u32s(status, generation);
}

export function decodeEventConfig(payload: Uint8Array): { status: number; generation: number } {
  const c = new Cursor(payload);
  const status = c.u32("status");
  const generation = c.u32("generation");
  c.end("EVENT_CONFIG");
  if (status > 0xff) throw new VioaDecodeError(`status ${status} is not a u8`);
  return { status, generation };
}

export { Cursor as VioaCursor, concat as concatBytes };
