// SPDX-License-Identifier: Apache-2.0
/**
 * The guest's Session frames encoded and decoded by hand with protobufjs's `Writer`/`Reader`,
 * wire-compatible with `hmx.argo.v1` (hypervisor.proto), for the frames every message crosses:
 * the batches it sends and the results frames it gets back (issue 15, item 3).
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
import type { SessionFrame, SessionReply, WireResult } from "./wire-codec.js";

type Writer = protobuf.Writer;
type Reader = protobuf.Reader;
type EncodedCall = NonNullable<NonNullable<SessionFrame["batch"]>["calls"]>[number];

// ---- encoding --------------------------------------------------------------------------------

/** A u64 field; 0 is not written. */
function writeU64(w: Writer, field: number, value: U64In | null | undefined): void {
  if (value == null) return;
  const v = u64Value(value);
  if (v !== 0) w.uint32(tag(field, WIRE_VARINT)).uint64(v);
}

function writeU32(w: Writer, field: number, value: number | null | undefined): void {
  if (value) w.uint32(tag(field, WIRE_VARINT)).uint32(value);
}

interface AddrIn {
  aport?: number | null;
  domainId?: number | null;
}

function writeAddr(w: Writer, field: number, a: AddrIn | null | undefined): void {
  if (a == null) return;
  w.uint32(tag(field, WIRE_LEN)).fork();
  writeU32(w, 1, a.aport);
  writeU32(w, 2, a.domainId);
  w.ldelim();
}

/** One `Hypercall` (its fields; the caller frames it). */
function writeCall(w: Writer, c: EncodedCall): void {
  writeU64(w, 1, c.requestId);
  if (c.readMemory != null) {
    w.uint32(tag(3, WIRE_LEN)).fork();
    writeU64(w, 1, c.readMemory.gpa);
    writeU32(w, 2, c.readMemory.length);
    w.ldelim();
  } else if (c.writeMemory != null) {
    w.uint32(tag(4, WIRE_LEN)).fork();
    writeU64(w, 1, c.writeMemory.gpa);
    const data = c.writeMemory.data;
    if (data != null && data.length > 0) w.uint32(tag(2, WIRE_LEN)).bytes(data);
    w.ldelim();
  } else if (c.sendv != null) {
    const s = c.sendv;
    w.uint32(tag(7, WIRE_LEN)).fork();
    writeAddr(w, 1, s.src);
    writeAddr(w, 2, s.dst);
    for (const iov of s.iovs ?? []) {
      w.uint32(tag(3, WIRE_LEN)).fork();
      writeU64(w, 1, iov.gpa);
      writeU32(w, 2, iov.len);
      w.ldelim();
    }
    writeU32(w, 4, s.messageType);
    w.ldelim();
  } else if (c.getDomainInfo != null) {
    w.uint32(tag(2, WIRE_LEN)).uint32(0);
  } else if (c.registerRing != null) {
    const r = c.registerRing;
    w.uint32(tag(5, WIRE_LEN)).fork();
    writeU32(w, 1, r.aport);
    writeU32(w, 2, r.partnerId);
    writeU32(w, 3, r.len);
    const gfns = r.gfns ?? [];
    if (gfns.length > 0) {
      // proto3 packs repeated scalars: one length-delimited run of varints.
      w.uint32(tag(4, WIRE_LEN)).fork();
      for (const gfn of gfns) w.uint64(u64Value(gfn));
      w.ldelim();
    }
    writeU32(w, 5, r.flags);
    w.ldelim();
  } else if (c.unregisterRing != null) {
    w.uint32(tag(6, WIRE_LEN)).fork();
    writeU32(w, 1, c.unregisterRing.aport);
    writeU32(w, 2, c.unregisterRing.partnerId);
    w.ldelim();
  } else if (c.notify != null) {
    w.uint32(tag(8, WIRE_LEN)).fork();
    const ringData = c.notify.ringData;
    // Present-but-empty ring data is not Xen's NULL: its presence is written.
    if (ringData != null) {
      w.uint32(tag(1, WIRE_LEN)).fork();
      for (const e of ringData.entries ?? []) {
        w.uint32(tag(1, WIRE_LEN)).fork();
        writeAddr(w, 1, e.ring);
        writeU32(w, 2, e.spaceRequired);
        w.ldelim();
      }
      w.ldelim();
    }
    w.ldelim();
  }
}

/** A `SessionRequest` frame (open or batch) in wire bytes. */
export function encodeSessionFrame(frame: SessionFrame): Buffer {
  const w = protobuf.Writer.create();
  if (frame.batch != null) {
    const b = frame.batch;
    w.uint32(tag(2, WIRE_LEN)).fork();
    for (const call of b.calls ?? []) {
      w.uint32(tag(1, WIRE_LEN)).fork();
      writeCall(w, call);
      w.ldelim();
    }
    if (b.stopOnError === true) w.uint32(tag(2, WIRE_VARINT)).bool(true);
    writeU64(w, 3, b.ackThrough);
    w.ldelim();
  } else if (frame.open != null) {
    w.uint32(tag(1, WIRE_LEN)).fork();
    writeU64(w, 1, frame.open.ackThrough);
    const ringBytes = frame.open.virqRingBytes ?? 0;
    if (ringBytes !== 0) w.uint32(tag(2, WIRE_VARINT)).uint32(ringBytes);
    w.ldelim();
  }
  return w.finish() as Buffer;
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
  if (outcome === undefined) return { requestId };
  return { requestId, [outcome]: value, outcome };
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
