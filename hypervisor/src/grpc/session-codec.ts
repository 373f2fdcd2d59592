// SPDX-License-Identifier: Apache-2.0
/**
 * The hypervisor's hot Session frames by hand (read with protobufjs's `Reader`, written
 * in two passes by `@hmx/proto/wire-writer`), wire-compatible
 * with `hmx.argo.v1` (issue 15, item 3): a sendv / readMemory / writeMemory / notify call is read
 * from its wire bytes straight into the core `Hypercall`, and a results frame is written straight from
 * its `HypercallResult`s. proto-loader would build its output object (`toObject`) and then
 * `codec.ts` another from it; on the way out it copies the frame through `fromObject` before
 * encoding. Those passes were ~20 % of the hypervisor's busy time in the bench's profiles.
 *
 * The call decoder keeps lazy-batch.ts's rule: a call is decoded when the scheduler runs it. It
 * reads by hand only what is canonical (one of those four operations, each field with its
 * declared wire type); any other call (ring registration, domain info, an unexpected wire type, a
 * truncated field) is left to proto-loader as before (`decodeCall`), so it is answered, or
 * refused, exactly as it always was. The results encoder does the same for frames holding a
 * domain-info result, and for every frame that is not a results frame.
 */
import protobuf from "protobufjs/minimal.js";
import type { HypercallResult as WireResult } from "@hmx/proto/gen/hmx/argo/v1/HypercallResult.js";
import type { SessionResponse } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";
import type { Virq } from "@hmx/proto/gen/hmx/argo/v1/Virq.js";
import type { ArgoAddr, Iov, NotifyEntry } from "../argo/types.js";
import type { Hypercall } from "../dispatch/hypercall.js";
import {
  expectWire,
  nestedEnd,
  NOT_CANONICAL,
  readU64,
  u64Value,
  WIRE_LEN,
  WIRE_VARINT,
} from "@hmx/proto/wire";
import { writeVirqEventFrame } from "./virq-event-codec.js";
import {
  bytesContent,
  delimitedSize,
  sint32Size,
  u32FieldSize,
  u64Size,
  utf8Size,
  WireBytes,
} from "@hmx/proto/wire-writer";

type Reader = protobuf.Reader;

/** Hypercall's op fields read by hand. */
const READ_MEMORY_FIELD = 3;
const WRITE_MEMORY_FIELD = 4;
const SENDV_FIELD = 7;
const NOTIFY_FIELD = 8;
/** Hypercall's op fields: 2..8 (get_domain_info .. notify). */
const FIRST_OP_FIELD = 2;
const LAST_OP_FIELD = 8;

/** A u64 as codec.ts's `u64ToNumber` gives it: exact, or Infinity beyond 2^53 - 1. */
const readU64Number = (r: Reader): number => readU64(r, () => Number.POSITIVE_INFINITY);

function readAddr(r: Reader, end: number): ArgoAddr {
  let aport = 0;
  let domainId = 0;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      aport = r.uint32();
    } else if (field === 2) {
      expectWire(t, WIRE_VARINT);
      domainId = r.uint32();
    } else r.skipType(t & 7);
  }
  return { aport, domainId };
}

function readIov(r: Reader, end: number): Iov {
  let gpa = 0;
  let len = 0;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      gpa = readU64Number(r);
    } else if (field === 2) {
      expectWire(t, WIRE_VARINT);
      len = r.uint32();
    } else r.skipType(t & 7);
  }
  return { gpa, len };
}

const ZERO_ADDR: ArgoAddr = { aport: 0, domainId: 0 };

function readSendv(r: Reader, end: number): Hypercall {
  let src = ZERO_ADDR;
  let dst = ZERO_ADDR;
  const iovs: Iov[] = [];
  let messageType = 0;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1 || field === 2 || field === 3) {
      expectWire(t, WIRE_LEN);
      const inner = nestedEnd(r, end);
      if (field === 3) iovs.push(readIov(r, inner));
      else if (field === 1) src = readAddr(r, inner);
      else dst = readAddr(r, inner);
      if (r.pos !== inner) throw NOT_CANONICAL;
    } else if (field === 4) {
      expectWire(t, WIRE_VARINT);
      messageType = r.uint32();
    } else r.skipType(t & 7);
  }
  return { op: "sendv", args: { src, dst, iovs, messageType } };
}

const EMPTY = Buffer.alloc(0);

/** ReadMemoryRequest and WriteMemoryRequest: gpa (1), then length or data (2). */
function readMemoryCall(r: Reader, end: number, write: boolean): Hypercall {
  let gpa = 0;
  let length = 0;
  let data: Buffer = EMPTY;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      gpa = readU64Number(r);
    } else if (field === 2 && write) {
      expectWire(t, WIRE_LEN);
      // A view of the frame, as protobufjs's own bytes(): the payload is not copied here.
      data = r.bytes() as Buffer;
    } else if (field === 2) {
      expectWire(t, WIRE_VARINT);
      length = r.uint32();
    } else r.skipType(t & 7);
  }
  return write ? { op: "writeMemory", gpa, data } : { op: "readMemory", gpa, length };
}

function readNotifyEntry(r: Reader, end: number): NotifyEntry {
  let ring = ZERO_ADDR;
  let spaceRequired = 0;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_LEN);
      const inner = nestedEnd(r, end);
      ring = readAddr(r, inner);
      if (r.pos !== inner) throw NOT_CANONICAL;
    } else if (field === 2) {
      expectWire(t, WIRE_VARINT);
      spaceRequired = r.uint32();
    } else r.skipType(t & 7);
  }
  return { ring, spaceRequired };
}

/** NotifyRequest: an absent ring_data is Xen's NULL arg1, a present one may be empty. */
function readNotify(r: Reader, end: number): Hypercall {
  let ringData: NotifyEntry[] | null = null;
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 !== 1) {
      r.skipType(t & 7);
      continue;
    }
    expectWire(t, WIRE_LEN);
    const dataEnd = nestedEnd(r, end);
    // A repeated ring_data replaces the earlier one, as protobufjs does.
    ringData = [];
    while (r.pos < dataEnd) {
      const et = r.uint32();
      if (et >>> 3 !== 1) {
        r.skipType(et & 7);
        continue;
      }
      expectWire(et, WIRE_LEN);
      const entryEnd = nestedEnd(r, dataEnd);
      ringData.push(readNotifyEntry(r, entryEnd));
      if (r.pos !== entryEnd) throw NOT_CANONICAL;
    }
    if (r.pos !== dataEnd) throw NOT_CANONICAL;
  }
  return { op: "notify", ringData };
}

/** One call's bytes → core hypercall, or NOT_CANONICAL. */
function readHotCall(bytes: Buffer): Hypercall {
  const r = protobuf.Reader.create(bytes);
  let call: Hypercall | undefined;
  while (r.pos < r.len) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      readU64Number(r); // the request id: lazy-batch.ts already read it
      continue;
    }
    if (field < FIRST_OP_FIELD || field > LAST_OP_FIELD) {
      r.skipType(t & 7);
      continue;
    }
    // A second operation, or one of the cold ones: proto-loader decides.
    if (call !== undefined) throw NOT_CANONICAL;
    expectWire(t, WIRE_LEN);
    const end = nestedEnd(r, r.len);
    if (field === SENDV_FIELD) call = readSendv(r, end);
    else if (field === READ_MEMORY_FIELD) call = readMemoryCall(r, end, false);
    else if (field === WRITE_MEMORY_FIELD) call = readMemoryCall(r, end, true);
    else if (field === NOTIFY_FIELD) call = readNotify(r, end);
    else throw NOT_CANONICAL;
    if (r.pos !== end) throw NOT_CANONICAL;
  }
  if (call === undefined) throw NOT_CANONICAL;
  return call;
}

/**
 * One call of a lazy batch (lazy-batch.ts) as a core hypercall when it is a canonical sendv,
 * memory or notify call; undefined for any other call, which the caller decodes as before (proto-loader,
 * then codec.ts), so that it is answered or refused exactly as it always was.
 */
export function decodeHotCall(bytes: Buffer): Hypercall | undefined {
  try {
    return readHotCall(bytes);
  } catch {
    return undefined;
  }
}

// ---- results frames --------------------------------------------------------------------------

/** HypercallResult's ret-only outcome fields. */
const RET_OUTCOME_FIELDS = {
  writeMemory: 5,
  registerRing: 6,
  unregisterRing: 7,
  sendv: 8,
} as const;

// Results are written in two passes (`@hmx/proto/wire-writer`): a result's content size, then
// its bytes. Every field number here is below 16, so every tag is one byte.

type RetIn = number | null | undefined;
type NotifyIn = NonNullable<WireResult["notify"]>;

/** A `{ ret }` message's content size: ret is a sint32, 0 is not written. */
function retSize(ret: RetIn): number {
  return ret ? 1 + sint32Size(ret) : 0;
}

function writeRetField(w: WireBytes, ret: RetIn): void {
  if (ret) {
    w.uint32((1 << 3) | WIRE_VARINT);
    w.sint32(ret);
  }
}

function writeNested(w: WireBytes, field: number, content: number): void {
  w.uint32((field << 3) | WIRE_LEN);
  w.uint32(content);
}

function nestedSize(content: number): number {
  return 1 + delimitedSize(content);
}

/** A read's data as written, or null when the field is left out (absent or empty). */
function readData(data: Uint8Array | string | null | undefined): Uint8Array | null {
  return data != null && data.length > 0 ? bytesContent(data) : null;
}

function notifyEntrySize(e: NonNullable<NotifyIn["entries"]>[number]): number {
  return u32FieldSize(e.flags) + u32FieldSize(e.maxMessageSize);
}

function notifySize(n: NotifyIn): number {
  let size = retSize(n.ret);
  for (const e of n.entries ?? []) size += nestedSize(notifyEntrySize(e));
  return size;
}

/** A result's content size; -1 when it is not one the hand encoder writes (domain info). */
function resultSize(result: WireResult): number {
  let n = 0;
  if (result.requestId != null) {
    const id = u64Value(result.requestId);
    if (id !== 0) n += 1 + u64Size(id);
  }
  if (result.sendv != null) n += nestedSize(retSize(result.sendv.ret));
  else if (result.readMemory != null) {
    const data = readData(result.readMemory.data);
    n += nestedSize(retSize(result.readMemory.ret) + (data === null ? 0 : nestedSize(data.length)));
  } else if (result.writeMemory != null) n += nestedSize(retSize(result.writeMemory.ret));
  else if (result.status != null) {
    const { code, message } = result.status;
    n += nestedSize(u32FieldSize(code) + (message ? nestedSize(utf8Size(message)) : 0));
  } else if (result.notify != null) n += nestedSize(notifySize(result.notify));
  else if (result.registerRing != null) n += nestedSize(retSize(result.registerRing.ret));
  else if (result.unregisterRing != null) n += nestedSize(retSize(result.unregisterRing.ret));
  else if (result.getDomainInfo != null) return -1;
  return n;
}

function writeRet(w: WireBytes, field: number, ret: RetIn): void {
  writeNested(w, field, retSize(ret));
  writeRetField(w, ret);
}

/** Writes one result's content (sized by `resultSize`, which did not refuse it). */
function writeResult(w: WireBytes, result: WireResult): void {
  if (result.requestId != null) {
    const id = u64Value(result.requestId);
    if (id !== 0) {
      w.uint32((1 << 3) | WIRE_VARINT);
      w.u64(id);
    }
  }
  if (result.sendv != null) writeRet(w, RET_OUTCOME_FIELDS.sendv, result.sendv.ret);
  else if (result.readMemory != null) {
    const { ret } = result.readMemory;
    const data = readData(result.readMemory.data);
    writeNested(w, 4, retSize(ret) + (data === null ? 0 : nestedSize(data.length)));
    writeRetField(w, ret);
    if (data !== null) {
      w.uint32((2 << 3) | WIRE_LEN);
      w.bytes(data);
    }
  } else if (result.writeMemory != null)
    writeRet(w, RET_OUTCOME_FIELDS.writeMemory, result.writeMemory.ret);
  else if (result.status != null) {
    const { code, message } = result.status;
    const messageBytes = message ? utf8Size(message) : 0;
    writeNested(w, 2, u32FieldSize(code) + (message ? nestedSize(messageBytes) : 0));
    w.u32Field(1, code);
    if (message) {
      w.uint32((2 << 3) | WIRE_LEN);
      w.string(message, messageBytes);
    }
  } else if (result.notify != null) {
    const n = result.notify;
    writeNested(w, 9, notifySize(n));
    writeRetField(w, n.ret);
    for (const e of n.entries ?? []) {
      writeNested(w, 2, notifyEntrySize(e));
      w.u32Field(1, e.flags);
      w.u32Field(2, e.maxMessageSize);
    }
  } else if (result.registerRing != null)
    writeRet(w, RET_OUTCOME_FIELDS.registerRing, result.registerRing.ret);
  else if (result.unregisterRing != null)
    writeRet(w, RET_OUTCOME_FIELDS.unregisterRing, result.unregisterRing.ret);
}

/** A results frame by hand, or undefined when it holds a result the hand encoder leaves. */
function writeResultsFrame(results: readonly WireResult[]): Buffer | undefined {
  // Sizes are plain arithmetic: a result's is computed again when it is framed rather than kept.
  let content = 0;
  for (const result of results) {
    const size = resultSize(result);
    if (size < 0) return undefined;
    content += nestedSize(size);
  }
  const w = new WireBytes(nestedSize(content));
  writeNested(w, 2, content);
  for (const result of results) {
    writeNested(w, 1, resultSize(result));
    writeResult(w, result);
  }
  return w.finish();
}

/** The VIRQ of an event frame that is nothing else (no device event, no other kind). */
function virqOnly(response: SessionResponse): Virq | undefined {
  const event = response.event;
  if (event?.virq == null || event.deviceAdded != null || event.deviceRemoved != null)
    return undefined;
  return response.ready == null && response.results == null ? event.virq : undefined;
}

/**
 * A Session response its writer already encoded (the VIRQ event with the rings' bytes copied
 * from the rings straight into the frame, virq-event-codec.ts `writeVirqSpansFrame`): the
 * serializer hands its bytes to grpc-js as they are.
 */
export class EncodedResponse {
  constructor(readonly frame: Buffer) {}
}

/**
 * The Session's response serializer: results frames and VIRQ events (virq-event-codec.ts) by
 * hand, frames encoded already as they are, anything else by `whole` (proto-loader's).
 */
export function sessionResponseEncoder(
  whole: (response: SessionResponse) => Buffer,
): (response: SessionResponse | EncodedResponse) => Buffer {
  return (response) => {
    if (response instanceof EncodedResponse) return response.frame;
    const results = response.results?.results;
    if (results != null && response.ready == null && response.event == null) {
      const bytes = writeResultsFrame(results);
      if (bytes !== undefined) return bytes;
    }
    const virq = virqOnly(response);
    if (virq !== undefined) {
      const bytes = writeVirqEventFrame(virq);
      if (bytes !== undefined) return bytes;
    }
    return whole(response);
  };
}
