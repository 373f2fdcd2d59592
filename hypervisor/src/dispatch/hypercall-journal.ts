// SPDX-License-Identifier: Apache-2.0
/**
 * What the dispatcher tells a state journal (`--state-dir`, hypervisor/src/state/): every
 * hypercall that changes state, in execution order, so that replaying them on a restarted
 * hypervisor rebuilds memory, rings, waiters and the resume log exactly. Declared here so the
 * dispatcher does not depend on the storage.
 */
import type { Hypercall, HypercallResult } from "./hypercall.js";

export interface HypercallJournal {
  /** Why mutating hypercalls are refused now (the journal cannot write), or undefined. */
  readonly failure: string | undefined;
  /**
   * `call` is about to run for `domid`; `requestId` is its at-most-once id, 0 for a unary call
   * without one (only mutating calls are recorded then).
   */
  executed(domid: number, requestId: number, call: Hypercall): void;
  /** A request id was answered without running anything (a stop-on-error skip, a bad call). */
  answered(domid: number, requestId: number, result: HypercallResult): void;
  /** The guest acknowledged results through `ackThrough` and some left the resume log. */
  acknowledged(domid: number, ackThrough: number): void;
}

/** Hypercalls whose effects outlive the call (reads and GetDomainInfo change nothing). */
export function isMutating(call: Hypercall): boolean {
  return call.op !== "readMemory" && call.op !== "getDomainInfo";
}
