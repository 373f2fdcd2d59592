// SPDX-License-Identifier: Apache-2.0
/**
 * The journal's record payloads: the state-changing inputs of the hypervisor, in the order they
 * ran. A payload starts with its kind byte. Hypercall records are binary up front (kind, domid,
 * request id, op) with WriteMemory's bytes stored raw, so the hot path never base64-encodes a
 * page; ReadMemory, Sendv and acknowledgements are binary too (numbers as float64, which keeps
 * every JavaScript number, Infinity included), and the hot ones are written straight into the
 * journal's commit buffer (`inPlaceRecordBytes`, `writeRecordInto`). The rest of a call, and the
 * rare lifecycle records, are JSON. JSON has no Infinity,
 * and the gRPC adapter maps out-of-range u64 values to Infinity, so non-finite numbers are
 * written as `{"$n": "Infinity"}` and restored on reading.
 */
import type { ArgoAddr, Iov } from "@hmx/proto/abi";
import type { SendvArgs } from "../argo/types.js";
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
  /** Binary: domid (u16), ackThrough (f64). Journals before version 3 hold kind 6, JSON. */
  "acknowledged-binary": 10,
} as const;
/** kind byte, domid (u16), ackThrough (f64). */
const ACK_BYTES = 11;
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
/**
 * The op byte of a Sendv whose body is binary: five float64 (src domain and port, dst domain and
 * port, message type), a u32 iov count, and a float64 gpa and len per iov. OP_CODES.sendv's body
 * is JSON (journals before version 3, and a call with a field that is not a number).
 */
const BINARY_SENDV = 16;
const SENDV_FIXED_BYTES = 5 * 8 + 4;
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

/**
 * The payload size of `record` when `writeRecordInto` encodes it (the hot path's records:
 * WriteMemory, ReadMemory, Sendv, acknowledgements), or undefined for one only `encodeRecord`
 * builds.
 */
export function inPlaceRecordBytes(record: StateRecord): number | undefined {
  if (record.kind === "acknowledged") return ACK_BYTES;
  if (record.kind !== "hypercall") return undefined;
  const { call } = record;
  if (call.op === "writeMemory") return CALL_PREFIX_BYTES + 8 + call.data.length;
  if (call.op === "readMemory") return CALL_PREFIX_BYTES + 16;
  if (call.op === "sendv" && binarySendv(call.args)) {
    return CALL_PREFIX_BYTES + SENDV_FIXED_BYTES + 16 * call.args.iovs.length;
  }
  return undefined;
}

/** Writes a record `inPlaceRecordBytes` sized at `target[offset..]`. */
export function writeRecordInto(target: Buffer, offset: number, record: StateRecord): void {
  if (record.kind === "acknowledged") {
    target.writeUInt8(KIND_CODES["acknowledged-binary"], offset);
    target.writeUInt16LE(record.domid, offset + 1);
    target.writeDoubleLE(record.ackThrough, offset + 3);
    return;
  }
  if (record.kind !== "hypercall")
    throw new Error(`a ${record.kind} record is not written in place`);
  const { call } = record;
  const body = offset + CALL_PREFIX_BYTES;
  if (call.op === "writeMemory") {
    writeCallPrefix(target, offset, KIND_CODES.hypercall, record, OP_CODES.writeMemory);
    target.writeDoubleLE(call.gpa, body);
    target.set(call.data, body + 8);
  } else if (call.op === "readMemory") {
    writeCallPrefix(target, offset, KIND_CODES.hypercall, record, OP_CODES.readMemory);
    target.writeDoubleLE(call.gpa, body);
    target.writeDoubleLE(call.length, body + 8);
  } else if (call.op === "sendv") {
    writeCallPrefix(target, offset, KIND_CODES.hypercall, record, BINARY_SENDV);
    const { src, dst, iovs, messageType } = call.args;
    target.writeDoubleLE(src.domainId, body);
    target.writeDoubleLE(src.aport, body + 8);
    target.writeDoubleLE(dst.domainId, body + 16);
    target.writeDoubleLE(dst.aport, body + 24);
    target.writeDoubleLE(messageType, body + 32);
    let at = target.writeUInt32LE(iovs.length, body + 40);
    for (const iov of iovs) at = target.writeDoubleLE(iov.len, target.writeDoubleLE(iov.gpa, at));
  } else {
    throw new Error(`a ${call.op} call is not written in place`);
  }
}

/**
 * Whether every field of a Sendv is a number, so the binary body keeps it exactly (a malformed
 * call from a test or a future adapter keeps the JSON body, and fails on replay as it did live).
 */
function binarySendv(args: SendvArgs): boolean {
  // Written without arrays or closures: this runs for every journaled sendv.
  const loose = args as {
    readonly src?: Partial<ArgoAddr>;
    readonly dst?: Partial<ArgoAddr>;
    readonly iovs?: unknown;
    readonly messageType?: unknown;
  };
  const { src, dst, iovs, messageType } = loose;
  if (
    typeof src?.domainId !== "number" ||
    typeof src.aport !== "number" ||
    typeof dst?.domainId !== "number" ||
    typeof dst.aport !== "number" ||
    typeof messageType !== "number" ||
    !Array.isArray(iovs)
  )
    return false;
  for (const iov of iovs as unknown[]) {
    const { gpa, len } = (iov ?? {}) as Partial<Iov>;
    if (typeof gpa !== "number" || typeof len !== "number") return false;
  }
  return true;
}

function readSendv(body: Buffer): Hypercall {
  const n = (i: number) => body.readDoubleLE(i * 8);
  const count = body.readUInt32LE(40);
  const iovs = Array.from({ length: count }, (_, i) => ({
    gpa: body.readDoubleLE(SENDV_FIXED_BYTES + 16 * i),
    len: body.readDoubleLE(SENDV_FIXED_BYTES + 16 * i + 8),
  }));
  return {
    op: "sendv",
    args: {
      src: { domainId: n(0), aport: n(1) },
      dst: { domainId: n(2), aport: n(3) },
      iovs,
      messageType: n(4),
    },
  };
}

/** A record's payload bytes. */
export function encodeRecord(record: StateRecord): Buffer {
  const inPlace = inPlaceRecordBytes(record);
  if (inPlace !== undefined) {
    const out = Buffer.allocUnsafe(inPlace);
    writeRecordInto(out, 0, record);
    return out;
  }
  const code = KIND_CODES[record.kind];
  if (record.kind !== "hypercall" && record.kind !== "answered") {
    return Buffer.concat([Buffer.of(code), Buffer.from(toJson(record), "utf8")]);
  }
  if (record.kind === "answered") {
    return callRecord(code, record.domid, record.requestId, 0, toJson(record.result));
  }
  return callRecord(
    code,
    record.domid,
    record.requestId,
    OP_CODES[record.call.op],
    toJson(record.call),
  );
}

/** A call record's buffer with its prefix written and then `json`. */
function callRecord(
  code: number,
  domid: number,
  requestId: number,
  op: number,
  json: string,
): Buffer {
  const body = Buffer.from(json, "utf8");
  const out = Buffer.allocUnsafe(CALL_PREFIX_BYTES + body.length);
  body.copy(out, CALL_PREFIX_BYTES);
  writeCallPrefix(out, 0, code, { domid, requestId }, op);
  return out;
}

/** kind, domid, request id and op at `target[offset..]`. */
function writeCallPrefix(
  target: Buffer,
  offset: number,
  code: number,
  { domid, requestId }: { readonly domid: number; readonly requestId: number },
  op: number,
): void {
  target.writeUInt8(code, offset);
  target.writeUInt16LE(domid, offset + 1);
  target.writeDoubleLE(requestId, offset + 3);
  target.writeUInt8(op, offset + 11);
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
    case KIND_CODES["acknowledged-binary"]:
      return {
        kind: "acknowledged",
        domid: payload.readUInt16LE(1),
        ackThrough: payload.readDoubleLE(3),
      };
    case KIND_CODES.hypercall:
    case KIND_CODES.answered: {
      const domid = payload.readUInt16LE(1);
      const requestId = payload.readDoubleLE(3);
      const body = payload.subarray(CALL_PREFIX_BYTES);
      if (code === KIND_CODES.answered) {
        const result = fromJson(body.toString("utf8")) as HypercallResult;
        return { kind: "answered", domid, requestId, result };
      }
      if (payload.readUInt8(11) === BINARY_SENDV) {
        return { kind: "hypercall", domid, requestId, call: readSendv(body) };
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
