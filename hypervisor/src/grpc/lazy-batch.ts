// SPDX-License-Identifier: Apache-2.0
/**
 * Session batch frames decoded a call at a time. grpc-js decodes a request whole, on the event
 * loop, before any handler runs: one 4 MiB frame of 1,024 notify calls of 256 entries became
 * ~800,000 objects in one 200–400 ms task, and three such frames queued held ~150 MiB of them
 * live, so V8's full collections stalled every domain again (issue 9, the notify flood). Here
 * the Session method's deserializer only walks the batch's top level — each call's byte range
 * and request id — and a call is decoded into objects by the scheduler step that runs it, a
 * slice at a time. A queued batch then holds its wire bytes, not their objects.
 *
 * Each call is decoded by the very deserializer proto-loader built for SessionRequest (a batch
 * of that one call is wrapped around its bytes), so a call reads exactly as it did when the
 * frame was decoded whole. What changes: a call whose inner fields are malformed is answered
 * INVALID_ARGUMENT when its turn comes (earlier calls have run), where the whole frame used to
 * fail to decode; a call's top-level structure and its request id are still checked for the
 * whole frame before any call runs.
 */
import { loadHypervisorProto } from "@hmx/proto";
import type { HypervisorDefinition } from "@hmx/proto/gen/hmx/argo/v1/Hypervisor.js";
import type { Hypercall__Output } from "@hmx/proto/gen/hmx/argo/v1/Hypercall.js";
import type { SessionRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/SessionRequest.js";
import { DecodeError } from "./codec.js";
import { sessionResponseEncoder } from "./session-codec.js";

/** One call of a batch, still in wire form. */
export interface LazyCall {
  /** The call's encoded `Hypercall` message. */
  readonly bytes: Buffer;
  /** Its `request_id` as a decimal string ("0" when absent), as proto-loader gives uint64s. */
  readonly requestId: string;
}

export interface LazyBatch {
  readonly calls: readonly LazyCall[];
  readonly stopOnError: boolean;
  readonly ackThrough: string;
  /** `after` as a decimal string ("0": the batch depends on nothing). */
  readonly after: string;
}

/** A Session frame: an `open` decoded as before, or a batch whose calls are decoded on demand. */
export type SessionFrame =
  | (SessionRequest__Output & { readonly kind: "open" | undefined })
  | { readonly kind: "batch"; readonly batch: LazyBatch };

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/**
 * SessionRequest.batch, HypercallBatch.calls / stop_on_error / ack_through / after,
 * Hypercall.request_id.
 */
const SESSION_BATCH_FIELD = 2;
const BATCH_CALLS_FIELD = 1;
const BATCH_STOP_ON_ERROR_FIELD = 2;
const BATCH_ACK_THROUGH_FIELD = 3;
const BATCH_AFTER_FIELD = 4;
const CALL_REQUEST_ID_FIELD = 1;

/** A bounds-checked cursor over protobuf wire bytes. */
class WireReader {
  constructor(
    private readonly buf: Buffer,
    private pos = 0,
    private readonly end = buf.length,
  ) {}

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /**
   * A varint below 2^49 (at most 7 bytes) as a number, read without BigInt; -1, with the
   * position unchanged, for a longer one (then `varint()` reads it). Every tag, length and
   * request id a guest sends fits, so the BigInt path is for odd frames only.
   */
  private smallVarint(): number {
    let value = 0;
    let scale = 1;
    for (let i = this.pos; i < this.pos + 7; i++) {
      if (i >= this.end) throw new DecodeError("truncated varint in a Session frame");
      const byte = this.buf[i] ?? 0;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        this.pos = i + 1;
        return value;
      }
      scale *= 0x80;
    }
    return -1;
  }

  varint(): bigint {
    const small = this.smallVarint();
    if (small >= 0) return BigInt(small);
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new DecodeError("truncated varint in a Session frame");
      const byte = this.buf[this.pos++] ?? 0;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value & 0xffffffffffffffffn;
    }
    throw new DecodeError("varint longer than 10 bytes in a Session frame");
  }

  /** A u64 varint in decimal, as proto-loader renders it (`longs: String`). */
  varintString(): string {
    const small = this.smallVarint();
    return small >= 0 ? String(small) : this.varint().toString();
  }

  /** A length that must fit in what is left. */
  private length(): number {
    const small = this.smallVarint();
    const n = small >= 0 ? small : this.varint();
    if (n > this.end - this.pos)
      throw new DecodeError(`field of ${n} bytes runs past the end of a Session frame`);
    return Number(n);
  }

  /** A tag: its low 32 bits, as protobuf reads it (field = tag >>> 3, wire type = tag & 7). */
  tag(): number {
    const small = this.smallVarint();
    return small >= 0 ? small >>> 0 : Number(this.varint() & 0xffffffffn);
  }

  bytes(): Buffer {
    const n = this.length();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.advance(this.length());
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new DecodeError(`unsupported wire type ${wire} in a Session frame`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new DecodeError("truncated field in a Session frame");
    this.pos += n;
  }
}

/** The request id of one encoded call; every top-level field is bounds-checked on the way. */
function scanCall(bytes: Buffer): LazyCall {
  const reader = new WireReader(bytes);
  let requestId = "0";
  while (!reader.atEnd) {
    const t = reader.tag();
    if (t === ((CALL_REQUEST_ID_FIELD << 3) | WIRE_VARINT)) requestId = reader.varintString();
    else reader.skip(t & 7);
  }
  return { bytes, requestId };
}

function scanBatch(bytes: Buffer): LazyBatch {
  const reader = new WireReader(bytes);
  const calls: LazyCall[] = [];
  let stopOnError = false;
  let ackThrough = "0";
  let after = "0";
  while (!reader.atEnd) {
    const t = reader.tag();
    if (t === ((BATCH_CALLS_FIELD << 3) | WIRE_LEN)) calls.push(scanCall(reader.bytes()));
    else if (t === ((BATCH_STOP_ON_ERROR_FIELD << 3) | WIRE_VARINT))
      stopOnError = reader.varint() !== 0n;
    else if (t === ((BATCH_ACK_THROUGH_FIELD << 3) | WIRE_VARINT))
      ackThrough = reader.varintString();
    else if (t === ((BATCH_AFTER_FIELD << 3) | WIRE_VARINT)) after = reader.varintString();
    else reader.skip(t & 7);
  }
  return { calls, stopOnError, ackThrough, after };
}

function varintBytes(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

type Deserialize = (bytes: Buffer) => SessionRequest__Output;

/**
 * The Session frame deserializer: a frame with a batch is walked lazily; anything else (an open,
 * an empty frame) goes to proto-loader's deserializer as before.
 */
export function lazySessionDeserializer(whole: Deserialize): (bytes: Buffer) => SessionFrame {
  return (bytes) => {
    const reader = new WireReader(bytes);
    let batch: Buffer | undefined;
    while (!reader.atEnd) {
      const t = reader.tag();
      // The last batch field is the one protobufjs keeps; and proto-loader names `kind` "batch"
      // whenever one is present, even beside an `open`.
      if (t === ((SESSION_BATCH_FIELD << 3) | WIRE_LEN)) batch = reader.bytes();
      else reader.skip(t & 7);
    }
    if (batch === undefined) return whole(bytes) as SessionFrame;
    return { kind: "batch", batch: scanBatch(batch) };
  };
}

/** A decoder of single calls built on the whole-frame deserializer. */
export function callDecoder(whole: Deserialize): (call: LazyCall) => Hypercall__Output {
  const callTag = Buffer.from([(BATCH_CALLS_FIELD << 3) | WIRE_LEN]);
  const batchTag = Buffer.from([(SESSION_BATCH_FIELD << 3) | WIRE_LEN]);
  return (call) => {
    const callLength = varintBytes(call.bytes.length);
    const batchLength = varintBytes(callTag.length + callLength.length + call.bytes.length);
    let frame: SessionRequest__Output;
    try {
      frame = whole(Buffer.concat([batchTag, batchLength, callTag, callLength, call.bytes]));
    } catch (err) {
      throw new DecodeError(
        `call ${call.requestId} cannot be decoded: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const decoded = frame.batch?.calls[0];
    if (decoded === undefined) throw new DecodeError(`call ${call.requestId} decoded to nothing`);
    return decoded;
  };
}

/** proto-loader's own Session definition (decoding frames whole). */
function wholeSession(): HypervisorDefinition["Session"] {
  return loadHypervisorProto().hmx.argo.v1.Hypervisor.service.Session;
}

let decodeCallOnce: ((call: LazyCall) => Hypercall__Output) | undefined;

/** Decodes one call of a lazy batch exactly as a whole-frame decode would have. */
export function decodeCall(call: LazyCall): Hypercall__Output {
  decodeCallOnce ??= callDecoder(wholeSession().requestDeserialize);
  return decodeCallOnce(call);
}

/**
 * The Hypervisor service definition the guest listener serves: proto-loader's, with the Session
 * method's frames decoded lazily. Its handler (session-service.ts) receives `SessionFrame`s.
 */
export function guestServiceDefinition(): HypervisorDefinition {
  const service = loadHypervisorProto().hmx.argo.v1.Hypervisor.service;
  const lazy = lazySessionDeserializer(service.Session.requestDeserialize);
  return {
    ...service,
    // The handler is written for SessionFrame; the definition's type still names proto-loader's.
    // Results frames are written by hand (session-codec.ts).
    Session: {
      ...service.Session,
      requestDeserialize: lazy as unknown as Deserialize,
      responseSerialize: sessionResponseEncoder(service.Session.responseSerialize),
    },
  };
}
