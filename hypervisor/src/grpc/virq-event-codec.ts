// SPDX-License-Identifier: Apache-2.0
/**
 * A Session's VIRQ `event` frame (hypervisor.proto `Event.virq`, with the ring bytes of
 * virq-ring-data.ts) written by hand with protobufjs's `Writer`, wire-compatible with
 * `hmx.argo.v1`. Every paced message leaves for its receiver in one of these frames, and
 * proto-loader's serializer would first copy it through `fromObject` (issue 15, item 2; the
 * results frames' encoder in session-codec.ts is the same idea).
 *
 * Zero scalars are not written (proto3: absent and zero are the same value); each ring entry is,
 * for its presence. Ring data given as a string (proto-loader's base64 input) is left to
 * proto-loader: the Session never sends one, and this file does not decode base64.
 *
 * The Session itself writes its events with `writeVirqSpansFrame`, from spans still in the rings
 * (virq-ring-data.ts `virqRingSpans`), so that each pushed byte is copied once into the frame;
 * `writeVirqEventFrame` serves events given as messages (the serializer's path) and is the
 * reference the spans writer is tested against.
 */
import protobuf from "protobufjs/minimal.js";
import type { Virq } from "@hmx/proto/gen/hmx/argo/v1/Virq.js";
import { tag, WIRE_LEN, WIRE_VARINT } from "@hmx/proto/wire";
import { delimitedSize, u32FieldSize, WireBytes } from "@hmx/proto/wire-writer";
import { copyOutOfRingInto } from "../argo/ring-buffer.js";
import type { VirqRingSpan } from "./virq-ring-data.js";

type Writer = protobuf.Writer;

/** SessionResponse.event, Event.virq, Virq.rings. */
const EVENT_FIELD = 3;
const VIRQ_FIELD = 1;
const RINGS_FIELD = 2;

function writeU32(w: Writer, field: number, value: number | undefined): void {
  if (value) w.uint32(tag(field, WIRE_VARINT)).uint32(value);
}

/** The frame's bytes, or undefined when a ring's data is not bytes (then proto-loader's). */
export function writeVirqEventFrame(virq: Virq): Buffer | undefined {
  const w = protobuf.Writer.create();
  w.uint32(tag(EVENT_FIELD, WIRE_LEN)).fork();
  w.uint32(tag(VIRQ_FIELD, WIRE_LEN)).fork();
  writeU32(w, 1, virq.virq);
  for (const ring of virq.rings ?? []) {
    const { data } = ring;
    if (typeof data === "string") return undefined;
    w.uint32(tag(RINGS_FIELD, WIRE_LEN)).fork();
    writeU32(w, 1, ring.aport);
    writeU32(w, 2, ring.partnerId);
    writeU32(w, 3, ring.len);
    writeU32(w, 4, ring.txPtr);
    writeU32(w, 5, ring.at);
    if (data != null && data.length > 0) w.uint32(tag(6, WIRE_LEN)).bytes(data);
    w.ldelim();
  }
  w.ldelim();
  w.ldelim();
  return w.finish() as Buffer;
}

function spanSize(span: VirqRingSpan): number {
  return (
    u32FieldSize(span.aport) +
    u32FieldSize(span.partnerId) +
    u32FieldSize(span.len) +
    u32FieldSize(span.txPtr) +
    u32FieldSize(span.at) +
    (span.length > 0 ? 1 + delimitedSize(span.length) : 0)
  );
}

/**
 * The same frame as `writeVirqEventFrame` for the rings' entries as spans still in the rings:
 * sizes first, then one Buffer of exactly that size, each span's bytes copied from the ring's
 * pages straight into it. At 64 KiB messages that is one copy of every pushed byte (and one
 * Buffer of its size) fewer per event than copying the bytes out first.
 */
export function writeVirqSpansFrame(virq: number, spans: readonly VirqRingSpan[]): Buffer {
  let virqContent = u32FieldSize(virq);
  for (const span of spans) virqContent += 1 + delimitedSize(spanSize(span));
  const eventContent = 1 + delimitedSize(virqContent);
  const w = new WireBytes(1 + delimitedSize(eventContent));
  w.uint32(tag(EVENT_FIELD, WIRE_LEN));
  w.uint32(eventContent);
  w.uint32(tag(VIRQ_FIELD, WIRE_LEN));
  w.uint32(virqContent);
  w.u32Field(1, virq);
  for (const span of spans) {
    w.uint32(tag(RINGS_FIELD, WIRE_LEN));
    w.uint32(spanSize(span));
    w.u32Field(1, span.aport);
    w.u32Field(2, span.partnerId);
    w.u32Field(3, span.len);
    w.u32Field(4, span.txPtr);
    w.u32Field(5, span.at);
    if (span.length > 0) {
      w.uint32(tag(6, WIRE_LEN));
      w.bytesInPlace(span.length, (buf, offset) => {
        copyOutOfRingInto(span.ring, span.at, span.length, buf, offset);
      });
    }
  }
  return w.finish();
}
