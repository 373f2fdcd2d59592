// SPDX-License-Identifier: Apache-2.0
/**
 * The guest's Session frames encoded by hand (sizes first, straight into one Buffer:
 * `@hmx/proto/wire-writer`) and decoded by hand with protobufjs's `Reader`, wire-compatible
 * with `hmx.argo.v1` (hypervisor.proto), for the frames every message crosses: the batches it
 * sends and the results frames it gets back (issue 15, item 3).
 *
 * proto-loader's serializer runs `fromObject` (a validating copy of the whole frame, u64
 * strings parsed through Long) before encoding, and its deserializer `toObject` after decoding:
 * two object passes per frame on each side, ~20 % of a guest's busy time in the bench's
 * profiles. Here a batch is written straight from `wire-codec.ts`'s call objects, and a results
 * frame is read straight into the very shape proto-loader returns (`SessionReply`), so the
 * rest of the client is unchanged.
 *
 * Only what is canonical is read by hand: a results frame whose outcomes are status, a bare
 * `ret`, a read's data or notify's entries, each field with its declared wire type, at most one
 * outcome per result (VIRQ event frames: event-frame-codec.ts). Anything else (a `ready` frame,
 * a device event, a domain-info result, a field
 * with an unexpected wire type, a truncated frame) goes to proto-loader's deserializer, so an
 * odd frame decodes (or fails) exactly as it always did. Zero scalars are not written (proto3: absent
 * and zero are the same value); message fields are, for their presence.
 */
import protobuf from "protobufjs/minimal.js";
import {
  expectWire,
  nestedEnd,
  NOT_CANONICAL,
  readU64,
  tag,
  u64Value,
  WIRE_LEN,
  WIRE_VARINT,
  type U64In,
} from "@hmx/proto/wire";
import { readVirqEventFrame } from "./event-frame-codec.js";
import {
  bytesContent,
  delimitedSize,
  u32FieldSize,
  u64Size,
  WireBytes,
} from "@hmx/proto/wire-writer";
import type { SessionFrame, SessionReply, WireResult } from "./wire-codec.js";

type Reader = protobuf.Reader;
type EncodedCall = NonNullable<NonNullable<SessionFrame["batch"]>["calls"]>[number];

// ---- encoding --------------------------------------------------------------------------------
//
// Two passes over the frame (wire-writer.ts): each `*Size` function gives a message's content
// size, each `write*` function writes that content, and a nested message is its tag, its size
// and its content. Every field number here is below 16, so every tag is one byte.

interface AddrIn {
  aport?: number | null;
  domainId?: number | null;
}

/** A u64 field's size (tag included); 0 is not written. */
function u64FieldSize(value: U64In | null | undefined): number {
  if (value == null) return 0;
  const v = u64Value(value);
  return v !== 0 ? 1 + u64Size(v) : 0;
}

function writeU64(w: WireBytes, field: number, value: U64In | null | undefined): void {
  if (value == null) return;
  const v = u64Value(value);
  if (v !== 0) {
    w.uint32(tag(field, WIRE_VARINT));
    w.u64(v);
  }
}

/** A nested message's size (tag and length prefix included) from its content size. */
function nestedSize(content: number): number {
  return 1 + delimitedSize(content);
}

function writeNested(w: WireBytes, field: number, content: number): void {
  w.uint32(tag(field, WIRE_LEN));
  w.uint32(content);
}

function addrSize(a: AddrIn): number {
  return u32FieldSize(a.aport) + u32FieldSize(a.domainId);
}

function writeAddr(w: WireBytes, field: number, a: AddrIn | null | undefined): void {
  if (a == null) return;
  writeNested(w, field, addrSize(a));
  w.u32Field(1, a.aport);
  w.u32Field(2, a.domainId);
}

type SendvIn = NonNullable<EncodedCall["sendv"]>;
type IovIn = NonNullable<SendvIn["iovs"]>[number];
type RegisterIn = NonNullable<EncodedCall["registerRing"]>;
type NotifyIn = NonNullable<EncodedCall["notify"]>;
type NotifyEntryIn = NonNullable<NonNullable<NotifyIn["ringData"]>["entries"]>[number];

function iovSize(iov: IovIn): number {
  return u64FieldSize(iov.gpa) + u32FieldSize(iov.len);
}

function sendvSize(s: SendvIn): number {
  let n =
    (s.src == null ? 0 : nestedSize(addrSize(s.src))) +
    (s.dst == null ? 0 : nestedSize(addrSize(s.dst))) +
    u32FieldSize(s.messageType);
  for (const iov of s.iovs ?? []) n += nestedSize(iovSize(iov));
  return n;
}

function writeSendv(w: WireBytes, s: SendvIn): void {
  writeAddr(w, 1, s.src);
  writeAddr(w, 2, s.dst);
  for (const iov of s.iovs ?? []) {
    writeNested(w, 3, iovSize(iov));
    writeU64(w, 1, iov.gpa);
    w.u32Field(2, iov.len);
  }
  w.u32Field(4, s.messageType);
}

/** A writeMemory's data as written, or null when the field is left out (absent or empty). */
function writeData(data: Uint8Array | string | null | undefined): Uint8Array | null {
  return data != null && data.length > 0 ? bytesContent(data) : null;
}

function gfnsSize(gfns: readonly U64In[]): number {
  let n = 0;
  for (const gfn of gfns) n += u64Size(u64Value(gfn));
  return n;
}

function registerSize(r: RegisterIn): number {
  const gfns = r.gfns ?? [];
  return (
    u32FieldSize(r.aport) +
    u32FieldSize(r.partnerId) +
    u32FieldSize(r.len) +
    (gfns.length > 0 ? nestedSize(gfnsSize(gfns)) : 0) +
    u32FieldSize(r.flags)
  );
}

function notifyEntrySize(e: NotifyEntryIn): number {
  return (e.ring == null ? 0 : nestedSize(addrSize(e.ring))) + u32FieldSize(e.spaceRequired);
}

function ringDataSize(entries: readonly NotifyEntryIn[]): number {
  let n = 0;
  for (const e of entries) n += nestedSize(notifyEntrySize(e));
  return n;
}

function notifySize(n: NotifyIn): number {
  // Present-but-empty ring data is not Xen's NULL: its presence is written.
  return n.ringData == null ? 0 : nestedSize(ringDataSize(n.ringData.entries ?? []));
}

/** One `Hypercall`'s content size. */
function callSize(c: EncodedCall): number {
  let n = u64FieldSize(c.requestId);
  if (c.readMemory != null) {
    n += nestedSize(u64FieldSize(c.readMemory.gpa) + u32FieldSize(c.readMemory.length));
  } else if (c.writeMemory != null) {
    const data = writeData(c.writeMemory.data);
    n += nestedSize(
      u64FieldSize(c.writeMemory.gpa) + (data === null ? 0 : nestedSize(data.length)),
    );
  } else if (c.sendv != null) n += nestedSize(sendvSize(c.sendv));
  else if (c.getDomainInfo != null) n += nestedSize(0);
  else if (c.registerRing != null) n += nestedSize(registerSize(c.registerRing));
  else if (c.unregisterRing != null) {
    n += nestedSize(
      u32FieldSize(c.unregisterRing.aport) + u32FieldSize(c.unregisterRing.partnerId),
    );
  } else if (c.notify != null) n += nestedSize(notifySize(c.notify));
  return n;
}

/** One `Hypercall`'s content (the caller frames it). */
function writeCall(w: WireBytes, c: EncodedCall): void {
  writeU64(w, 1, c.requestId);
  if (c.readMemory != null) {
    const { gpa, length } = c.readMemory;
    writeNested(w, 3, u64FieldSize(gpa) + u32FieldSize(length));
    writeU64(w, 1, gpa);
    w.u32Field(2, length);
  } else if (c.writeMemory != null) {
    const gpa = c.writeMemory.gpa;
    const data = writeData(c.writeMemory.data);
    writeNested(w, 4, u64FieldSize(gpa) + (data === null ? 0 : nestedSize(data.length)));
    writeU64(w, 1, gpa);
    if (data !== null) {
      w.uint32(tag(2, WIRE_LEN));
      w.bytes(data);
    }
  } else if (c.sendv != null) {
    writeNested(w, 7, sendvSize(c.sendv));
    writeSendv(w, c.sendv);
  } else if (c.getDomainInfo != null) {
    writeNested(w, 2, 0);
  } else if (c.registerRing != null) {
    const r = c.registerRing;
    writeNested(w, 5, registerSize(r));
    w.u32Field(1, r.aport);
    w.u32Field(2, r.partnerId);
    w.u32Field(3, r.len);
    const gfns = r.gfns ?? [];
    if (gfns.length > 0) {
      // proto3 packs repeated scalars: one length-delimited run of varints.
      writeNested(w, 4, gfnsSize(gfns));
      for (const gfn of gfns) w.u64(u64Value(gfn));
    }
    w.u32Field(5, r.flags);
  } else if (c.unregisterRing != null) {
    const { aport, partnerId } = c.unregisterRing;
    writeNested(w, 6, u32FieldSize(aport) + u32FieldSize(partnerId));
    w.u32Field(1, aport);
    w.u32Field(2, partnerId);
  } else if (c.notify != null) {
    writeNested(w, 8, notifySize(c.notify));
    const ringData = c.notify.ringData;
    if (ringData != null) {
      const entries = ringData.entries ?? [];
      writeNested(w, 1, ringDataSize(entries));
      for (const e of entries) {
        writeNested(w, 1, notifyEntrySize(e));
        writeAddr(w, 1, e.ring);
        w.u32Field(2, e.spaceRequired);
      }
    }
  }
}

/** A `SessionRequest` frame (open or batch) in wire bytes. */
export function encodeSessionFrame(frame: SessionFrame): Buffer {
  if (frame.batch != null) {
    const b = frame.batch;
    const calls = b.calls ?? [];
    // Each call's size, kept from the frame's sizing for its own length prefix.
    const sizes: number[] = [];
    let content =
      (b.stopOnError === true ? 2 : 0) + u64FieldSize(b.ackThrough) + u64FieldSize(b.after);
    for (const call of calls) {
      const size = callSize(call);
      sizes.push(size);
      content += nestedSize(size);
    }
    const w = new WireBytes(nestedSize(content));
    writeNested(w, 2, content);
    calls.forEach((call, i) => {
      writeNested(w, 1, sizes[i] ?? callSize(call));
      writeCall(w, call);
    });
    if (b.stopOnError === true) {
      w.uint32(tag(2, WIRE_VARINT));
      w.uint32(1);
    }
    writeU64(w, 3, b.ackThrough);
    writeU64(w, 4, b.after);
    return w.finish();
  }
  if (frame.open != null) {
    const ringBytes = frame.open.virqRingBytes;
    const content = u64FieldSize(frame.open.ackThrough) + u32FieldSize(ringBytes);
    const w = new WireBytes(nestedSize(content));
    writeNested(w, 1, content);
    writeU64(w, 1, frame.open.ackThrough);
    w.u32Field(2, ringBytes);
    return w.finish();
  }
  return Buffer.alloc(0);
}

// ---- decoding --------------------------------------------------------------------------------

/** A u64 varint as proto-loader renders it (`longs: String`): exact decimal text. */
function readU64String(r: Reader): string {
  const value = readU64(r, (hi, lo) => ((BigInt(hi) << 32n) | BigInt(lo)).toString());
  return typeof value === "number" ? String(value) : value;
}

/** A `{ ret }` outcome (every ret-only response; field 1, sint32). */
function readRet(r: Reader, end: number): { ret: number } {
  let ret = 0;
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 === 1) {
      expectWire(t, WIRE_VARINT);
      ret = r.sint32();
    } else r.skipType(t & 7);
  }
  return { ret };
}

const EMPTY = Buffer.alloc(0);

function readReadMemory(r: Reader, end: number): { ret: number; data: Buffer } {
  let ret = 0;
  let data: Buffer = EMPTY;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      ret = r.sint32();
    } else if (field === 2) {
      expectWire(t, WIRE_LEN);
      data = r.bytes() as Buffer;
    } else r.skipType(t & 7);
  }
  return { ret, data };
}

function readStatus(r: Reader, end: number): { code: number; message: string } {
  let code = 0;
  let message = "";
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      code = r.uint32();
    } else if (field === 2) {
      expectWire(t, WIRE_LEN);
      message = r.string();
    } else r.skipType(t & 7);
  }
  return { code, message };
}

interface NotifyResultOut {
  ret: number;
  entries: { flags: number; maxMessageSize: number }[];
}

function readNotifyResult(r: Reader, end: number): NotifyResultOut {
  const out: NotifyResultOut = { ret: 0, entries: [] };
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      out.ret = r.sint32();
    } else if (field === 2) {
      expectWire(t, WIRE_LEN);
      const entryEnd = nestedEnd(r, end);
      const entry = { flags: 0, maxMessageSize: 0 };
      while (r.pos < entryEnd) {
        const et = r.uint32();
        const ef = et >>> 3;
        if (ef === 1 || ef === 2) {
          expectWire(et, WIRE_VARINT);
          if (ef === 1) entry.flags = r.uint32();
          else entry.maxMessageSize = r.uint32();
        } else r.skipType(et & 7);
      }
      if (r.pos !== entryEnd) throw NOT_CANONICAL;
      out.entries.push(entry);
    } else r.skipType(t & 7);
  }
  return out;
}

/** HypercallResult's outcome fields read by hand: field number → its name. */
const RET_OUTCOMES: Readonly<Record<number, WireResult["outcome"]>> = {
  5: "writeMemory",
  6: "registerRing",
  7: "unregisterRing",
  8: "sendv",
};

function readResult(r: Reader, end: number): WireResult {
  let requestId = "0";
  let outcome: WireResult["outcome"];
  let value: unknown;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      requestId = readU64String(r);
      continue;
    }
    if (field < 2 || field > 9) {
      r.skipType(t & 7);
      continue;
    }
    // A second outcome field, or domain info: proto-loader's decoder decides.
    if (outcome !== undefined || field === 3) throw NOT_CANONICAL;
    expectWire(t, WIRE_LEN);
    const inner = nestedEnd(r, end);
    if (field === 2) {
      outcome = "status";
      value = readStatus(r, inner);
    } else if (field === 4) {
      outcome = "readMemory";
      value = readReadMemory(r, inner);
    } else if (field === 9) {
      outcome = "notify";
      value = readNotifyResult(r, inner);
    } else {
      outcome = RET_OUTCOMES[field];
      value = readRet(r, inner);
    }
    if (r.pos !== inner) throw NOT_CANONICAL;
  }
  return resultOf(requestId, outcome, value);
}

/**
 * The result object, each outcome's written out as a literal: a computed key (`[outcome]`)
 * would build every result through V8's slow keyed-definition path.
 */
function resultOf(requestId: string, outcome: WireResult["outcome"], value: unknown): WireResult {
  switch (outcome) {
    case "sendv":
      return { requestId, sendv: value as NonNullable<WireResult["sendv"]>, outcome };
    case "writeMemory":
      return { requestId, writeMemory: value as NonNullable<WireResult["writeMemory"]>, outcome };
    case "readMemory":
      return { requestId, readMemory: value as NonNullable<WireResult["readMemory"]>, outcome };
    case "status":
      return { requestId, status: value as NonNullable<WireResult["status"]>, outcome };
    case "notify":
      return { requestId, notify: value as NonNullable<WireResult["notify"]>, outcome };
    case "registerRing":
      return { requestId, registerRing: value as NonNullable<WireResult["registerRing"]>, outcome };
    case "unregisterRing":
      return {
        requestId,
        unregisterRing: value as NonNullable<WireResult["unregisterRing"]>,
        outcome,
      };
    case undefined:
      return { requestId };
    case "getDomainInfo":
      // Never read by hand (readResult leaves it to proto-loader).
      throw NOT_CANONICAL;
  }
}

function readResultsFrame(bytes: Buffer): SessionReply {
  const r = protobuf.Reader.create(bytes);
  let results: WireResult[] | undefined;
  while (r.pos < r.len) {
    const t = r.uint32();
    // Only `results` (field 2), once: ready/event frames go to proto-loader.
    if (t >>> 3 !== 2 || results !== undefined) {
      if (t >>> 3 <= 3) throw NOT_CANONICAL;
      r.skipType(t & 7);
      continue;
    }
    expectWire(t, WIRE_LEN);
    const end = nestedEnd(r, r.len);
    results = [];
    while (r.pos < end) {
      const rt = r.uint32();
      if (rt >>> 3 !== 1) {
        r.skipType(rt & 7);
        continue;
      }
      expectWire(rt, WIRE_LEN);
      const resultEnd = nestedEnd(r, end);
      results.push(readResult(r, resultEnd));
      if (r.pos !== resultEnd) throw NOT_CANONICAL;
    }
  }
  if (results === undefined) throw NOT_CANONICAL;
  return { results: { results }, kind: "results" };
}

/** The first byte of a frame whose first field is `event` (field 3, length-delimited). */
const EVENT_FRAME_TAG = tag(3, WIRE_LEN);

/**
 * A `SessionResponse` deserializer: results frames and VIRQ events (event-frame-codec.ts) by
 * hand, everything else (and anything the hand decoders do not take as canonical) by `whole`,
 * proto-loader's deserializer.
 */
export function sessionReplyDecoder(
  whole: (bytes: Buffer) => SessionReply,
): (bytes: Buffer) => SessionReply {
  return (bytes) => {
    try {
      return bytes[0] === EVENT_FRAME_TAG ? readVirqEventFrame(bytes) : readResultsFrame(bytes);
    } catch {
      // Not canonical, or malformed: proto-loader decodes it, or throws its own error for it.
      return whole(bytes);
    }
  };
}
