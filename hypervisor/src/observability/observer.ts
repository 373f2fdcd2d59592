// SPDX-License-Identifier: Apache-2.0
/**
 * What the core tells observability (history, metrics). The core calls these hooks on its hot
 * paths, so the default is a no-op object with nothing to allocate: a hypervisor started without
 * `--http-listen` or `--history-file` behaves, and costs, exactly as before.
 */
import type { Domain } from "../domain/domain.js";
import type { Hypercall, HypercallResult } from "../dispatch/hypercall.js";
import type { AuditRecord } from "../mac/audit.js";

/** A guest stream's kind, as `GuestStreams` keeps them. */
export type StreamKind = "session" | "watch";

export interface Observer {
  /** A start mark for `hypercall` (0 when nothing measures latency). */
  hypercallStarted(): number;
  /**
   * One executed hypercall (replays from the resume log are not executions); returns its end
   * mark, where the time of a multicall's next step starts (0 when nothing measures latency).
   */
  hypercall(caller: Domain, call: Hypercall, result: HypercallResult, startedAt: number): number;
  /** A VIRQ delivered to a domain's watchers. */
  virq(domid: number, virq: number): void;
  /** A guest stream opened or closed; `remaining` counts the domain's streams after it. */
  stream(domid: number, kind: StreamKind, open: boolean, remaining: number): void;
  /** A MAC denial, as audited. */
  macDenial(record: AuditRecord): void;
  /** Domain lifecycle. */
  domain(domain: Domain, event: "created" | "destroyed"): void;
  /** A fault started (or was reconfigured) or stopped: Jepsen's nemesis ops, in the same history. */
  fault(action: "start" | "stop", name: string, detail: object): void;
}

export const NOOP_OBSERVER: Observer = {
  hypercallStarted: () => 0,
  hypercall: () => 0,
  virq: () => undefined,
  stream: () => undefined,
  macDenial: () => undefined,
  domain: () => undefined,
  fault: () => undefined,
};
