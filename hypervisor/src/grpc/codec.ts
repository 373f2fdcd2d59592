// SPDX-License-Identifier: Apache-2.0
/**
 * Wire ⇄ hypervisor types for `hmx.argo.v1`. The only place (with the service adapters beside
 * it) that sees generated proto types. 64-bit fields arrive as decimal strings; they become
 * numbers when exact, and Infinity otherwise, which every bounds check in the core rejects
 * (so an address beyond 2^53 is -EFAULT / -EINVAL, never silently truncated).
 */
import type { ArgoAddr__Output } from "@hmx/proto/gen/hmx/argo/v1/ArgoAddr.js";
import type { Hypercall__Output } from "@hmx/proto/gen/hmx/argo/v1/Hypercall.js";
import type { HypercallResult } from "@hmx/proto/gen/hmx/argo/v1/HypercallResult.js";
import type { NotifyRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/NotifyRequest.js";
import type { RegisterRingRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/RegisterRingRequest.js";
import type { SendvRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/SendvRequest.js";
import type { UnregisterRingRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/UnregisterRingRequest.js";
import type {
  ArgoAddr,
  NotifyEntry,
  RegisterRingArgs,
  SendvArgs,
  UnregisterRingArgs,
} from "../argo/types.js";
import {
  CallStatusCode,
  type Hypercall,
  type HypercallResult as CoreResult,
} from "../dispatch/hypercall.js";

/** A request that cannot be decoded into a hypercall (gRPC INVALID_ARGUMENT). */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

/** uint64 decimal string → exact number, or Infinity when beyond 2^53 (rejected by bounds). */
export function u64ToNumber(value: string): number {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : Number.POSITIVE_INFINITY;
}

/**
 * Largest request id: the id after it must still be an exact number, or a domain that reached
 * it could never make another at-most-once call (its guest resumes at `lastExecuted + 1`).
 */
export const MAX_REQUEST_ID = Number.MAX_SAFE_INTEGER - 1;

/** A request id: an integer in 1..MAX_REQUEST_ID, else DecodeError naming the value. */
export function parseRequestId(value: string): number {
  const n = /^[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_REQUEST_ID) {
    throw new DecodeError(
      `request id ${JSON.stringify(value.slice(0, 40))} is not an integer in 1..${MAX_REQUEST_ID}`,
    );
  }
  return n;
}

const ZERO_ADDR: ArgoAddr = { aport: 0, domainId: 0 };

function addr(a: ArgoAddr__Output | null | undefined): ArgoAddr {
  return a == null ? ZERO_ADDR : { aport: a.aport, domainId: a.domainId };
}

export function decodeRegisterRing(r: RegisterRingRequest__Output): RegisterRingArgs {
  return {
    aport: r.aport,
    partnerId: r.partnerId,
    len: r.len,
    gfns: r.gfns.map(u64ToNumber),
    flags: r.flags,
  };
}

export function decodeUnregisterRing(r: UnregisterRingRequest__Output): UnregisterRingArgs {
  return { aport: r.aport, partnerId: r.partnerId };
}

export function decodeSendv(r: SendvRequest__Output): SendvArgs {
  return {
    src: addr(r.src),
    dst: addr(r.dst),
    iovs: r.iovs.map((iov) => ({ gpa: u64ToNumber(iov.gpa), len: iov.len })),
    messageType: r.messageType,
  };
}

export function decodeNotify(r: NotifyRequest__Output): readonly NotifyEntry[] | null {
  if (r.ringData == null) return null;
  return r.ringData.entries.map((e) => ({ ring: addr(e.ring), spaceRequired: e.spaceRequired }));
}

/** A Session `Hypercall` frame entry → core hypercall (DecodeError when no op is set). */
export function decodeHypercall(call: Hypercall__Output): Hypercall {
  switch (call.op) {
    case "getDomainInfo":
      return { op: "getDomainInfo" };
    case "readMemory": {
      const r = call.readMemory;
      return { op: "readMemory", gpa: u64ToNumber(r?.gpa ?? "0"), length: r?.length ?? 0 };
    }
    case "writeMemory": {
      const r = call.writeMemory;
      return {
        op: "writeMemory",
        gpa: u64ToNumber(r?.gpa ?? "0"),
        data: r?.data ?? Buffer.alloc(0),
      };
    }
    case "registerRing":
      if (call.registerRing == null) break;
      return { op: "registerRing", args: decodeRegisterRing(call.registerRing) };
    case "unregisterRing":
      if (call.unregisterRing == null) break;
      return { op: "unregisterRing", args: decodeUnregisterRing(call.unregisterRing) };
    case "sendv":
      if (call.sendv == null) break;
      return { op: "sendv", args: decodeSendv(call.sendv) };
    case "notify":
      return { op: "notify", ringData: call.notify == null ? null : decodeNotify(call.notify) };
    case undefined:
      break;
  }
  throw new DecodeError(`hypercall ${call.requestId} has no operation set`);
}

/** Core result → Session `HypercallResult`. */
export function encodeResult(requestId: number, r: CoreResult): HypercallResult {
  // The id stays a number: both serializers take one for a uint64, and the hand one
  // (session-codec.ts) then writes it without parsing a decimal string back.
  switch (r.op) {
    case "status":
      return { requestId, status: { code: r.code, message: r.message } };
    case "getDomainInfo":
      return {
        requestId,
        getDomainInfo: {
          domid: r.info.domid,
          memoryBytes: String(r.info.memoryBytes),
          pageSize: r.info.pageSize,
          label: r.info.label,
        },
      };
    case "readMemory":
      return { requestId, readMemory: { ret: r.ret, data: r.data } };
    case "writeMemory":
      return { requestId, writeMemory: { ret: r.ret } };
    case "registerRing":
      return { requestId, registerRing: { ret: r.ret } };
    case "unregisterRing":
      return { requestId, unregisterRing: { ret: r.ret } };
    case "sendv":
      return { requestId, sendv: { ret: r.ret } };
    case "notify":
      return { requestId, notify: { ret: r.ret, entries: r.entries.map((e) => ({ ...e })) } };
  }
}

export const ABORTED_BY_STOP_ON_ERROR: CoreResult = {
  op: "status",
  code: CallStatusCode.ABORTED,
  message: "not executed: an earlier call of this stop_on_error batch failed",
};

/** The answer to the calls of a batch whose `after` call did not succeed (hypervisor.proto). */
export const ABORTED_BY_DEPENDENCY: CoreResult = {
  op: "status",
  code: CallStatusCode.ABORTED,
  message: "not executed: the call this batch runs after did not succeed",
};
