// SPDX-License-Identifier: Apache-2.0
/**
 * The guest's VIRQ `event` frame (hypervisor.proto `Event.virq`, with the ring bytes it carries)
 * decoded by hand with protobufjs's `Reader`, into the very shape proto-loader returns
 * (`SessionReply`). Every paced message reaches its receiver in one of these frames, and
 * proto-loader's deserializer builds it twice over (`decode`, then `toObject`); this reads it
 * once (issue 15, item 2).
 *
 * As for results frames (session-frame-codec.ts), only what is canonical is read here: one
 * `event` holding one `virq`, each field with its declared wire type. A device event, a second
 * `event` or `virq` (proto-loader's decoder decides what a repeated message field means), an
 * unexpected wire type or a truncated field throws `NOT_CANONICAL`, and the caller hands the
 * frame to proto-loader, so such a frame decodes (or fails) exactly as it always did.
 */
import protobuf from "protobufjs/minimal.js";
import { expectWire, nestedEnd, NOT_CANONICAL, WIRE_LEN, WIRE_VARINT } from "@hmx/proto/wire";
import type { SessionReply } from "./wire-codec.js";

type Reader = protobuf.Reader;
type VirqOut = NonNullable<NonNullable<SessionReply["event"]>["virq"]>;
type VirqRingOut = VirqOut["rings"][number];

/** SessionResponse.event and Event.virq: the fields this decoder reads. */
const EVENT_FIELD = 3;
const VIRQ_FIELD = 1;
/** The last field of each message's `kind` oneof: one of those is never skipped unread. */
const LAST_RESPONSE_KIND_FIELD = 3;
const LAST_EVENT_KIND_FIELD = 3;

const EMPTY = Buffer.alloc(0);

/** One `VirqRingData` (fields 1..5 uint32, 6 bytes); a repeated scalar keeps its last value. */
function readRing(r: Reader, end: number): VirqRingOut {
  const ring: VirqRingOut = { aport: 0, partnerId: 0, len: 0, txPtr: 0, at: 0, data: EMPTY };
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 6) {
      expectWire(t, WIRE_LEN);
      ring.data = r.bytes() as Buffer;
    } else if (field >= 1 && field <= 5) {
      expectWire(t, WIRE_VARINT);
      const value = r.uint32();
      if (field === 1) ring.aport = value;
      else if (field === 2) ring.partnerId = value;
      else if (field === 3) ring.len = value;
      else if (field === 4) ring.txPtr = value;
      else ring.at = value;
    } else r.skipType(t & 7);
  }
  return ring;
}

function readVirq(r: Reader, end: number): VirqOut {
  const virq: VirqOut = { virq: 0, rings: [] };
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, WIRE_VARINT);
      virq.virq = r.uint32();
    } else if (field === 2) {
      expectWire(t, WIRE_LEN);
      const ringEnd = nestedEnd(r, end);
      virq.rings.push(readRing(r, ringEnd));
      if (r.pos !== ringEnd) throw NOT_CANONICAL;
    } else r.skipType(t & 7);
  }
  return virq;
}

/** An `Event` that is one VIRQ; anything else in its `kind` is proto-loader's. */
function readEvent(r: Reader, end: number): VirqOut {
  let virq: VirqOut | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field > LAST_EVENT_KIND_FIELD) {
      r.skipType(t & 7);
      continue;
    }
    if (field !== VIRQ_FIELD || virq !== undefined) throw NOT_CANONICAL;
    expectWire(t, WIRE_LEN);
    const virqEnd = nestedEnd(r, end);
    virq = readVirq(r, virqEnd);
    if (r.pos !== virqEnd) throw NOT_CANONICAL;
  }
  if (virq === undefined) throw NOT_CANONICAL;
  return virq;
}

/** A `SessionResponse` that is one VIRQ event, or `NOT_CANONICAL` (see the module comment). */
export function readVirqEventFrame(bytes: Buffer): SessionReply {
  const r = protobuf.Reader.create(bytes);
  let virq: VirqOut | undefined;
  while (r.pos < r.len) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field > LAST_RESPONSE_KIND_FIELD) {
      r.skipType(t & 7);
      continue;
    }
    if (field !== EVENT_FIELD || virq !== undefined) throw NOT_CANONICAL;
    expectWire(t, WIRE_LEN);
    const end = nestedEnd(r, r.len);
    virq = readEvent(r, end);
    if (r.pos !== end) throw NOT_CANONICAL;
  }
  if (virq === undefined) throw NOT_CANONICAL;
  return { event: { virq, kind: "virq" }, kind: "event" };
}
