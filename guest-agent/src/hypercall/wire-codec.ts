// SPDX-License-Identifier: Apache-2.0
/**
 * Converts between the guest's hypercall types (`HypercallOp`, `HypercallOutcome`) and the
 * generated `hmx.argo.v1` Session messages. It is the only file of the hypercall client that
 * touches generated proto types, so a change of wire shape stays in one place.
 *
 * Outgoing 64-bit fields (gpa, gfn, request ids) are checked to be non-negative safe integers
 * and stay numbers, which both the hand encoder (session-frame-codec.ts) and protobufjs write
 * exactly; incoming ones arrive as decimal strings (the loader's `longs: String`) and are parsed
 * and range-checked before they become numbers, never silently rounded. u32
 * fields are checked too, because protobufjs would wrap an out-of-range number (`>>> 0`) and
 * change the hypercall's meaning (a domid of 0x1_0000_7FF4 would become DOMID_ANY).
 * The hot path (sendv, write/readMemory, results) allocates only the message objects themselves.
 */
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { Hypercall } from "@hmx/proto/gen/hmx/argo/v1/Hypercall.js";
import type { HypercallResult__Output } from "@hmx/proto/gen/hmx/argo/v1/HypercallResult.js";
import type { SessionRequest } from "@hmx/proto/gen/hmx/argo/v1/SessionRequest.js";
import type { SessionResponse__Output } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";
import type {
  ArgoAddr,
  HypercallOp,
  HypercallOutcome,
  NotifyEntry,
  VirqRing,
} from "./hypercall-client.js";

/** One encoded hypercall; its request id is filled in when the call is admitted to the window. */
export type EncodedCall = Hypercall & { requestId: number };
/** A frame the client writes on the Session stream. */
export type SessionFrame = SessionRequest;
/** A frame the server writes on the Session stream. */
export type SessionReply = SessionResponse__Output;
/** One hypercall's result inside a `results` frame. */
export type WireResult = HypercallResult__Output;
/** The client side of the Session stream. */
export type SessionStream = grpc.ClientDuplexStream<SessionFrame, SessionReply>;

/** The `ready` frame, in numbers. */
export interface ReadyInfo {
  readonly domid: number;
  readonly lastExecuted: number;
  readonly resumeWindow: number;
  readonly maxBatch: number;
  /** Ring bytes the session's VIRQ events carry (0: none; see `virqRings`). */
  readonly virqRingBytes: number;
  /** The server honours `HypercallBatch.after` (false for a hypervisor that predates it). */
  readonly dependentBatches: boolean;
}

/** A value from the server that does not fit the client's types (e.g. a u64 above 2^53). */
export class WireDecodeError extends Error {
  override readonly name = "WireDecodeError";
}

function u64Out(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative safe integer, got ${value}`);
  }
  return value;
}

function u32(value: number, field: string): number {
  // (v >>> 0) === v holds exactly for the integers 0..2^32-1.
  if (value >>> 0 !== value) throw new RangeError(`${field} must be a u32, got ${value}`);
  return value;
}

function addr(a: ArgoAddr, field: string): { aport: number; domainId: number } {
  return { aport: u32(a.aport, `${field}.aport`), domainId: u32(a.domainId, `${field}.domainId`) };
}

/**
 * Parses a decimal u64 string from the wire into a number, or throws `WireDecodeError` when it
 * is not a plain decimal or exceeds `Number.MAX_SAFE_INTEGER`.
 */
export function parseU64(text: string, field: string): number {
  const len = text.length;
  // Up to 15 digits is below 10^15 < 2^53: a digit loop both validates and converts.
  if (len > 0 && len <= 15) {
    let n = 0;
    for (let i = 0; i < len; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) throw new WireDecodeError(`${field} is not a decimal u64: ${text}`);
      n = n * 10 + d;
    }
    return n;
  }
  if (len > 15 && len <= 20 && /^\d+$/.test(text)) {
    const big = BigInt(text);
    if (big <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(big);
    throw new WireDecodeError(`${field} ${text} exceeds 2^53-1`);
  }
  throw new WireDecodeError(`${field} is not a decimal u64: ${text}`);
}

function encodeNotifyEntries(entries: readonly NotifyEntry[]): {
  ring: { aport: number; domainId: number };
  spaceRequired: number;
}[] {
  const out = new Array<{ ring: { aport: number; domainId: number }; spaceRequired: number }>(
    entries.length,
  );
  let i = 0;
  for (const e of entries) {
    out[i++] = { ring: addr(e.ring, "ring"), spaceRequired: u32(e.spaceRequired, "spaceRequired") };
  }
  return out;
}

/**
 * Encodes one hypercall with request id 0 (set later by the session). Throws `RangeError` for
 * a value the wire cannot carry unchanged.
 */
export function encodeCall(op: HypercallOp): EncodedCall {
  switch (op.op) {
    case "getDomainInfo":
      return { requestId: 0, getDomainInfo: {} };
    case "readMemory":
      return {
        requestId: 0,
        readMemory: { gpa: u64Out(op.gpa, "gpa"), length: u32(op.length, "length") },
      };
    case "writeMemory":
      return { requestId: 0, writeMemory: { gpa: u64Out(op.gpa, "gpa"), data: op.data } };
    case "registerRing": {
      const gfns = new Array<number>(op.gfns.length);
      let i = 0;
      for (const gfn of op.gfns) gfns[i++] = u64Out(gfn, "gfn");
      return {
        requestId: 0,
        registerRing: {
          aport: u32(op.aport, "aport"),
          partnerId: u32(op.partnerId, "partnerId"),
          len: u32(op.len, "len"),
          gfns,
          flags: u32(op.flags, "flags"),
        },
      };
    }
    case "unregisterRing":
      return {
        requestId: 0,
        unregisterRing: {
          aport: u32(op.aport, "aport"),
          partnerId: u32(op.partnerId, "partnerId"),
        },
      };
    case "sendv": {
      const iovs = new Array<{ gpa: number; len: number }>(op.iovs.length);
      let i = 0;
      for (const iov of op.iovs) {
        iovs[i++] = { gpa: u64Out(iov.gpa, "iov.gpa"), len: u32(iov.len, "iov.len") };
      }
      return {
        requestId: 0,
        sendv: {
          src: addr(op.src, "src"),
          dst: addr(op.dst, "dst"),
          iovs,
          messageType: u32(op.messageType, "messageType"),
        },
      };
    }
    case "notify":
      // An absent ring_data is Xen's NULL arg1; an empty list is a present-but-empty one.
      return op.ringData === null
        ? { requestId: 0, notify: {} }
        : { requestId: 0, notify: { ringData: { entries: encodeNotifyEntries(op.ringData) } } };
  }
}

/** The first frame of every session. */
export function openFrame(ackThrough: number, virqRingBytes = 0): SessionFrame {
  return { open: { ackThrough, virqRingBytes } };
}

/**
 * A batch frame; `ackThrough` 0 acknowledges nothing, `after` 0 depends on nothing (the batch
 * runs only if call `after` succeeded: hypervisor.proto).
 */
export function batchFrame(
  calls: readonly EncodedCall[],
  stopOnError: boolean,
  ackThrough: number,
  after = 0,
): SessionFrame {
  return {
    batch: { calls: calls as EncodedCall[], stopOnError, ackThrough, after },
  };
}

/** Reads a `ready` frame, or `undefined` if the frame is not one. */
export function decodeReady(frame: SessionReply): ReadyInfo | undefined {
  const r = frame.ready;
  if (frame.kind !== "ready" || r == null) return undefined;
  return {
    domid: r.domid,
    lastExecuted: parseU64(r.lastExecuted, "ready.lastExecuted"),
    resumeWindow: r.resumeWindow,
    maxBatch: r.maxBatch,
    virqRingBytes: r.virqRingBytes,
    dependentBatches: r.dependentBatches,
  };
}

const NO_RESULTS: readonly WireResult[] = [];

/** The results a `results` frame carries (empty for any other frame). */
export function frameResults(frame: SessionReply): readonly WireResult[] {
  return frame.kind === "results" && frame.results != null ? frame.results.results : NO_RESULTS;
}

/** Whether the frame is a VIRQ event. */
export function isVirqEvent(frame: SessionReply): boolean {
  return frame.kind === "event" && frame.event?.kind === "virq";
}

/** The ring data a VIRQ event carries (hypervisor.proto `Virq.rings`; empty for other frames). */
export function virqRings(frame: SessionReply): readonly VirqRing[] {
  return frame.event?.virq?.rings ?? [];
}

/** A result's request id as a number (throws `WireDecodeError` when out of range). */
export function resultRequestId(result: WireResult): number {
  return parseU64(result.requestId, "result.requestId");
}

function mismatch(result: WireResult, expected: HypercallOp["op"]): HypercallOutcome {
  return {
    op: "status",
    code: status.INTERNAL,
    message: `result ${String(result.outcome)} does not answer a ${expected} call`,
  };
}

/**
 * Converts one result into the outcome of the call it answers. A result of the wrong kind, or
 * one whose values do not fit, becomes a status INTERNAL outcome rather than an exception: the
 * caller of that one call sees it, every other call of the batch is unaffected.
 */
export function decodeOutcome(result: WireResult, expected: HypercallOp["op"]): HypercallOutcome {
  switch (result.outcome) {
    case "status": {
      const s = result.status;
      return { op: "status", code: s?.code ?? status.UNKNOWN, message: s?.message ?? "" };
    }
    case "sendv":
      return result.sendv != null && expected === "sendv"
        ? { op: "sendv", ret: result.sendv.ret }
        : mismatch(result, expected);
    case "writeMemory":
      return result.writeMemory != null && expected === "writeMemory"
        ? { op: "writeMemory", ret: result.writeMemory.ret }
        : mismatch(result, expected);
    case "readMemory":
      return result.readMemory != null && expected === "readMemory"
        ? { op: "readMemory", ret: result.readMemory.ret, data: result.readMemory.data }
        : mismatch(result, expected);
    case "notify": {
      const n = result.notify;
      if (n == null || expected !== "notify") return mismatch(result, expected);
      const entries = new Array<{ flags: number; maxMessageSize: number }>(n.entries.length);
      let i = 0;
      for (const e of n.entries)
        entries[i++] = { flags: e.flags, maxMessageSize: e.maxMessageSize };
      return { op: "notify", ret: n.ret, entries };
    }
    case "registerRing":
      return result.registerRing != null && expected === "registerRing"
        ? { op: "registerRing", ret: result.registerRing.ret }
        : mismatch(result, expected);
    case "unregisterRing":
      return result.unregisterRing != null && expected === "unregisterRing"
        ? { op: "unregisterRing", ret: result.unregisterRing.ret }
        : mismatch(result, expected);
    case "getDomainInfo": {
      const g = result.getDomainInfo;
      if (g == null || expected !== "getDomainInfo") return mismatch(result, expected);
      try {
        return {
          op: "getDomainInfo",
          ret: 0,
          info: {
            domid: g.domid,
            memoryBytes: parseU64(g.memoryBytes, "memoryBytes"),
            pageSize: g.pageSize,
            label: g.label,
          },
        };
      } catch (err) {
        return { op: "status", code: status.INTERNAL, message: (err as Error).message };
      }
    }
    case undefined:
      break;
  }
  return { op: "status", code: status.INTERNAL, message: "result with no outcome" };
}

/** Whether an outcome ends a stopOnError batch: a negative ret or a status. */
export function isFailure(outcome: HypercallOutcome): boolean {
  return outcome.op === "status" || outcome.ret < 0;
}
