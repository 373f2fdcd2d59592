// SPDX-License-Identifier: Apache-2.0
/**
 * The journal's record payloads: the state-changing inputs of the hypervisor, in the order they
 * ran. A payload starts with its kind byte. Hypercall records are binary up front (kind, domid,
 * request id, op) with WriteMemory's bytes stored raw, so the hot path never base64-encodes a
 * page; the rest of a call, and the rare lifecycle records, are JSON. JSON has no Infinity,
 * and the gRPC adapter maps out-of-range u64 values to Infinity, so non-finite numbers are
 * written as `{"$n": "Infinity"}` and restored on reading.
 */
import type { Hypercall, HypercallResult } from "../dispatch/hypercall.js";
import type { DeviceChange } from "../devices/device-manager.js";
import type { EnrolmentRecord } from "../fleet/enrolment.js";
import type { MacChange } from "../mac/mac-controller.js";

/** What brings a domain back: its identity and its credential's digest (journal and snapshot). */
export interface DomainIdentity {
  readonly domid: number;
  readonly name: string;
  readonly label: string;
  readonly memoryBytes: number;
  readonly privileged: boolean;
  /** SHA-256 of the credential, hex: the credential itself is never stored. */
  readonly digest: string;
}

export type StateRecord =
  | ({ readonly kind: "domain-created" } & DomainIdentity)
  | { readonly kind: "credential"; readonly domid: number; readonly digest: string }
  | { readonly kind: "domain-destroyed"; readonly domid: number }
  | { readonly kind: "acknowledged"; readonly domid: number; readonly ackThrough: number }
  /** A MAC policy load, flask mode or firewall change made through the toolstack. */
  | { readonly kind: "mac"; readonly change: MacChange }
  /** A VirtIO device placement change (the tables at gfn 0 follow from replaying it). */
  | { readonly kind: "device"; readonly change: DeviceChange }
  /** A new enrolled instance (its domain's creation is the record before). */
  | ({ readonly kind: "enrolled" } & EnrolmentRecord)
  | {
      readonly kind: "hypercall";
      readonly domid: number;
      readonly requestId: number;
      readonly call: Hypercall;
    }
  | {
      readonly kind: "answered";
      readonly domid: number;
      readonly requestId: number;
      readonly result: HypercallResult;
    };

const KIND_CODES = {
  "domain-created": 1,
  credential: 2,
  "domain-destroyed": 3,
  hypercall: 4,
  answered: 5,
  acknowledged: 6,
  mac: 7,
  device: 8,
  enrolled: 9,
} as const;
/** kind byte, domid (u16), request id (f64), op byte. */
const CALL_PREFIX_BYTES = 12;
const OP_CODES: Record<Hypercall["op"], number> = {
  getDomainInfo: 1,
  readMemory: 2,
  writeMemory: 3,
  registerRing: 4,
  unregisterRing: 5,
  sendv: 6,
  notify: 7,
};
const OP_NAMES = Object.fromEntries(Object.entries(OP_CODES).map(([k, v]) => [v, k])) as Record<
  number,
  Hypercall["op"]
>;

/**
 * JSON with the two values plain JSON loses: non-finite numbers (`{"$n": "Infinity"}`) and
 * Buffers (`{"$b": base64}`, for ReadMemory results a snapshot's resume logs hold).
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    // `v` is already Buffer.toJSON's output; the holder still has the Buffer itself.
    const original = this[key];
    if (Buffer.isBuffer(original)) return { $b: original.toString("base64") };
    return typeof v === "number" && !Number.isFinite(v) ? { $n: String(v) } : v;
  });
}

export function fromJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v !== "object" || v === null) return v;
    if ("$n" in v) return Number((v as { $n: string }).$n);
    if ("$b" in v) return Buffer.from((v as { $b: string }).$b, "base64");
    return v;
  });
}

/** A record's payload bytes. */
export function encodeRecord(record: StateRecord): Buffer {
  const code = KIND_CODES[record.kind];
  if (record.kind !== "hypercall" && record.kind !== "answered") {
    return Buffer.concat([Buffer.of(code), Buffer.from(toJson(record), "utf8")]);
  }
  if (record.kind === "answered") {
    return callRecord(code, record.domid, record.requestId, 0, toJson(record.result));
  }
  const { call } = record;
  const op = OP_CODES[call.op];
  // The hot path's two calls (a sender staging a message, a receiver draining its ring) are
  // written field by field into one allocation: no JSON, no concatenation.
  if (call.op === "writeMemory") {
    const out = callRecord(code, record.domid, record.requestId, op, 8 + call.data.length);
    out.writeDoubleLE(call.gpa, CALL_PREFIX_BYTES);
    out.set(call.data, CALL_PREFIX_BYTES + 8);
    return out;
  }
  if (call.op === "readMemory") {
    const out = callRecord(code, record.domid, record.requestId, op, 16);
    out.writeDoubleLE(call.gpa, CALL_PREFIX_BYTES);
    out.writeDoubleLE(call.length, CALL_PREFIX_BYTES + 8);
    return out;
  }
  return callRecord(code, record.domid, record.requestId, op, toJson(call));
}

/**
 * A call record's buffer with its prefix written, and then either `body` (JSON) or room for
 * `body` bytes that the caller fills.
 */
function callRecord(
  code: number,
  domid: number,
  requestId: number,
  op: number,
  body: number | string,
): Buffer {
  const json = typeof body === "string" ? Buffer.from(body, "utf8") : undefined;
  const out = Buffer.allocUnsafe(CALL_PREFIX_BYTES + (json?.length ?? (body as number)));
  if (json !== undefined) json.copy(out, CALL_PREFIX_BYTES);
  out.writeUInt8(code, 0);
  out.writeUInt16LE(domid, 1);
  out.writeDoubleLE(requestId, 3);
  out.writeUInt8(op, 11);
  return out;
}

/** Decodes a payload `encodeRecord` made; throws on anything else. */
export function decodeRecord(payload: Buffer): StateRecord {
  const code = payload.readUInt8(0);
  switch (code) {
    case KIND_CODES["domain-created"]:
    case KIND_CODES.credential:
    case KIND_CODES["domain-destroyed"]:
    case KIND_CODES.acknowledged:
    case KIND_CODES.mac:
    case KIND_CODES.device:
    case KIND_CODES.enrolled:
      return fromJson(payload.subarray(1).toString("utf8")) as StateRecord;
    case KIND_CODES.hypercall:
    case KIND_CODES.answered: {
      const domid = payload.readUInt16LE(1);
      const requestId = payload.readDoubleLE(3);
      const body = payload.subarray(CALL_PREFIX_BYTES);
      if (code === KIND_CODES.answered) {
        const result = fromJson(body.toString("utf8")) as HypercallResult;
        return { kind: "answered", domid, requestId, result };
      }
      const op = OP_NAMES[payload.readUInt8(11)];
      if (op === undefined) throw new Error(`unknown hypercall op ${payload.readUInt8(11)}`);
      const call: Hypercall =
        op === "writeMemory"
          ? { op, gpa: body.readDoubleLE(0), data: body.subarray(8) }
          : op === "readMemory"
            ? { op, gpa: body.readDoubleLE(0), length: body.readDoubleLE(8) }
            : (fromJson(body.toString("utf8")) as Hypercall);
      return { kind: "hypercall", domid, requestId, call };
    }
    default:
      throw new Error(`unknown state record kind ${code}`);
  }
}
