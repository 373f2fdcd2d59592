// SPDX-License-Identifier: Apache-2.0
/**
 * One hypercall and its outcome in the hypervisor's own types. Both framings of the guest API
 * (unary RPCs and the Session stream) decode into `Hypercall`, run it through the one
 * `HypercallDispatcher`, and encode the `HypercallResult` back; the resume log stores results
 * in this form so a replay is byte-for-byte the original answer.
 */
import { status } from "@grpc/grpc-js";
import type {
  NotifyEntry,
  NotifyResultEntry,
  RegisterRingArgs,
  SendvArgs,
  UnregisterRingArgs,
} from "../argo/types.js";

export type Hypercall =
  | { readonly op: "getDomainInfo" }
  | { readonly op: "readMemory"; readonly gpa: number; readonly length: number }
  | { readonly op: "writeMemory"; readonly gpa: number; readonly data: Uint8Array }
  | { readonly op: "registerRing"; readonly args: RegisterRingArgs }
  | { readonly op: "unregisterRing"; readonly args: UnregisterRingArgs }
  | { readonly op: "sendv"; readonly args: SendvArgs }
  | { readonly op: "notify"; readonly ringData: readonly NotifyEntry[] | null };

export type HypercallOpName = Hypercall["op"];

export interface DomainInfo {
  readonly domid: number;
  readonly memoryBytes: number;
  readonly pageSize: number;
  readonly label: string;
}

/** The gRPC status codes a result may carry instead of a `ret`. */
export const CallStatusCode = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
  /** The state journal cannot write (a full disk): mutating calls wait for it (docs/state.md). */
  UNAVAILABLE: status.UNAVAILABLE,
} as const;

export type HypercallResult =
  | { readonly op: "getDomainInfo"; readonly ret: number; readonly info: DomainInfo }
  | { readonly op: "readMemory"; readonly ret: number; readonly data: Buffer }
  | { readonly op: "writeMemory"; readonly ret: number }
  | { readonly op: "registerRing"; readonly ret: number }
  | { readonly op: "unregisterRing"; readonly ret: number }
  | { readonly op: "sendv"; readonly ret: number }
  | {
      readonly op: "notify";
      readonly ret: number;
      readonly entries: readonly NotifyResultEntry[];
    }
  /** A call that produced no `ret`: quota, undecodable, skipped (stop_on_error) or forgotten. */
  | { readonly op: "status"; readonly code: status; readonly message: string };

/** Whether a result ends a stop-on-error batch: a negative ret, or any status. */
export function isFailure(result: HypercallResult): boolean {
  return result.op === "status" || result.ret < 0;
}
