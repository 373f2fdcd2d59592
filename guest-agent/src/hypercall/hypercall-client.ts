// SPDX-License-Identifier: Apache-2.0
/**
 * The guest's view of the hypercall ABI: the operations of `hmx.argo.v1.Hypervisor` in the
 * guest's own types, independent of how they travel. libargo and the workloads depend on this
 * interface only; `SessionClient` implements it over the pipelined Session stream.
 *
 * Every Argo op resolves with Xen's `ret` (>= 0, or a negative errno from `Errno` in
 * `@hmx/proto/abi`); a negative errno is a normal result, not an exception. Only what Xen has
 * no errno for (quota, undecodable request, forgotten request id, lost domain) rejects, with a
 * `HypercallStatusError` carrying the gRPC status code.
 */

import type { ArgoAddr, DomainInfo, Iov, NotifyEntry, NotifyResultEntry } from "@hmx/proto/abi";

// The ABI shapes are @hmx/proto's, shared with the hypervisor; re-exported for the guest's code.
export type { ArgoAddr, DomainInfo, Iov, NotifyEntry, NotifyResultEntry };

/**
 * Unread bytes of one of this guest's rings, carried by a VIRQ (hypervisor.proto
 * `VirqRingData`): ring data bytes [at, at + data.length), all below `txPtr` in ring order.
 */
export interface VirqRing {
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly txPtr: number;
  readonly at: number;
  readonly data: Buffer;
}

/** One hypercall, as it goes into a batch. */
export type HypercallOp =
  | { readonly op: "getDomainInfo" }
  | { readonly op: "readMemory"; readonly gpa: number; readonly length: number }
  | { readonly op: "writeMemory"; readonly gpa: number; readonly data: Uint8Array }
  | {
      readonly op: "registerRing";
      readonly aport: number;
      readonly partnerId: number;
      readonly len: number;
      readonly gfns: readonly number[];
      readonly flags: number;
    }
  | { readonly op: "unregisterRing"; readonly aport: number; readonly partnerId: number }
  | {
      readonly op: "sendv";
      readonly src: ArgoAddr;
      readonly dst: ArgoAddr;
      readonly iovs: readonly Iov[];
      readonly messageType: number;
    }
  /** `ringData: null` is Xen's NULL arg1: only fire the caller's own rings' space waiters. */
  | { readonly op: "notify"; readonly ringData: readonly NotifyEntry[] | null };

/** One hypercall's outcome, in the order the batch gave them. */
export type HypercallOutcome =
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
  /** No `ret`: a gRPC status code (e.g. 10 ABORTED for a call skipped by stopOnError). */
  | { readonly op: "status"; readonly code: number; readonly message: string };

export interface BatchOptions {
  /** End the batch at the first negative ret; later calls come back as status ABORTED (10). */
  readonly stopOnError?: boolean;
  /**
   * An ordered stream of batches (a socket's sends). This batch runs only if the one sent
   * before it on the same chain succeeded to its last call; otherwise every call comes back
   * status ABORTED (10), not executed (hypervisor.proto `HypercallBatch.after`). So a caller may
   * send the next batch before the previous one is answered and still keep their order. A
   * fresh chain depends on nothing. Honoured only where `dependentBatches` is true.
   */
  readonly chain?: BatchChain;
}

/**
 * A chain of dependent batches (`BatchOptions.chain`): an opaque token, one per ordered stream;
 * a client remembers the last batch sent on it. Start over with a new one.
 */
export class BatchChain {
  // Nominal: any object with no members would otherwise do. Type only, nothing at run time.
  declare private readonly brand: never;
}

/** A hypercall that came back with a gRPC status instead of a `ret`. */
export class HypercallStatusError extends Error {
  override readonly name = "HypercallStatusError";
  constructor(
    readonly code: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The hypervisor no longer knows this guest's domain: after the session had been up, a reconnect
 * was refused with UNAUTHENTICATED. Either the hypervisor restarted without its state
 * (`--state-dir`, docs/state.md) or the domain was destroyed meanwhile; no retry can bring the
 * domain back, so `hmx guest` exits with its own documented code (4) instead of 1.
 */
export class DomainLostError extends HypercallStatusError {}

export interface HypercallClient {
  /** The caller's domid, known once connected. */
  readonly domid: number;
  /**
   * `BatchOptions.chain` is honoured (the hypervisor announced it); absent or false: a chained
   * batch is sent as if it were on its own, so a caller must not pipeline on it.
   */
  readonly dependentBatches?: boolean;

  /** Runs the calls strictly in order as one batch (a multicall); resolves with every outcome. */
  batch(ops: readonly HypercallOp[], options?: BatchOptions): Promise<HypercallOutcome[]>;

  getDomainInfo(): Promise<DomainInfo>;
  readMemory(gpa: number, length: number): Promise<{ ret: number; data: Buffer }>;
  writeMemory(gpa: number, data: Uint8Array): Promise<number>;
  registerRing(args: {
    aport: number;
    partnerId: number;
    len: number;
    gfns: readonly number[];
    flags: number;
  }): Promise<number>;
  unregisterRing(aport: number, partnerId: number): Promise<number>;
  sendv(src: ArgoAddr, dst: ArgoAddr, iovs: readonly Iov[], messageType: number): Promise<number>;
  notify(
    ringData: readonly NotifyEntry[] | null,
  ): Promise<{ ret: number; entries: readonly NotifyResultEntry[] }>;

  /**
   * Subscribes to VIRQ_ARGO. Listeners also fire once after every reconnect, because a VIRQ
   * may have been raised while the link was down. Returns the unsubscribe function.
   * `rings`, when given, lists every ring of this guest with unread data as the VIRQ was
   * delivered, with a copy of its first unread bytes (hypervisor.proto `Virq.rings`); rings not
   * in it were empty. Undefined when the client does not know (no ring data on this session,
   * a reconnect): then every ring must be looked at.
   */
  onVirq(listener: (rings?: readonly VirqRing[]) => void): () => void;

  /** Ends the session; pending calls reject. */
  close(): Promise<void>;
}
