// SPDX-License-Identifier: Apache-2.0
/**
 * At-most-once execution across link drops. Each domain has one increasing sequence of
 * request ids, shared by its Session streams and by unary calls carrying `hmx-request-id`.
 * The log remembers every result the guest has not yet acknowledged, so a hypercall resent
 * after a reconnect is answered from memory instead of running twice (a sendv applied twice
 * would duplicate a message). It is bounded by count and by bytes so a guest that never
 * acknowledges can only make the hypervisor forget its own old results, not exhaust it.
 */
import type { HypercallResult } from "./hypercall.js";

/** What to do with an incoming request id. */
export type ResumeDecision =
  | { readonly kind: "execute" }
  | { readonly kind: "too-far"; readonly message: string }
  | { readonly kind: "replay"; readonly result: HypercallResult }
  | { readonly kind: "forgotten" };

/**
 * How far past the last executed id a new request id may jump. Ids are per domain and
 * increasing, normally by one; without a bound one call with an id near 2^53 would use up the
 * domain's whole id space, and no later call could be numbered above it.
 */
export const MAX_REQUEST_ID_STEP = 2 ** 32;

export interface ResumeLogLimits {
  /** Most unacknowledged results kept. */
  readonly maxEntries: number;
  /** Most bytes of ReadMemory data kept. */
  readonly maxBytes: number;
}

/** The decision for every new id: one object, not one per hypercall. */
const EXECUTE: ResumeDecision = { kind: "execute" };

function resultBytes(result: HypercallResult): number {
  return result.op === "readMemory" ? result.data.length : 0;
}

export class ResumeLog {
  /** Highest request id executed so far (0: none). */
  private highest = 0;
  /** id → result, in increasing id order (Map keeps insertion order). */
  private readonly entries = new Map<number, HypercallResult>();
  private bytes = 0;

  constructor(private readonly limits: ResumeLogLimits) {}

  get lastExecuted(): number {
    return this.highest;
  }

  get size(): number {
    return this.entries.size;
  }

  /** ReadMemory bytes held now (charged to the domain's held-bytes budget). */
  get heldBytes(): number {
    return this.bytes;
  }

  decide(requestId: number): ResumeDecision {
    if (requestId > this.highest + MAX_REQUEST_ID_STEP) {
      return {
        kind: "too-far",
        message: `request id ${requestId} is more than ${MAX_REQUEST_ID_STEP} past the last executed id ${this.highest}`,
      };
    }
    if (requestId > this.highest) return EXECUTE;
    const result = this.entries.get(requestId);
    return result === undefined ? { kind: "forgotten" } : { kind: "replay", result };
  }

  /** The result kept for `requestId` (undefined: never executed, or no longer kept). */
  resultOf(requestId: number): HypercallResult | undefined {
    return this.entries.get(requestId);
  }

  record(requestId: number, result: HypercallResult): void {
    this.highest = requestId;
    this.entries.set(requestId, result);
    this.bytes += resultBytes(result);
    while (
      this.entries.size > this.limits.maxEntries ||
      (this.bytes > this.limits.maxBytes && this.entries.size > 1)
    ) {
      this.evictOldest();
    }
  }

  /** The results kept, oldest first (`--state-dir` snapshots). */
  results(): IterableIterator<[number, HypercallResult]> {
    return this.entries.entries();
  }

  /**
   * Puts back a log a snapshot kept: `highest` and the results `results()` listed. Only on an
   * empty log (a restored domain's, before its first call).
   */
  restore(highest: number, results: Iterable<readonly [number, HypercallResult]>): void {
    if (this.highest !== 0 || this.entries.size !== 0) {
      throw new Error("a resume log is restored only before its first use");
    }
    for (const [id, result] of results) {
      this.entries.set(id, result);
      this.bytes += resultBytes(result);
    }
    this.highest = highest;
  }

  /** Drops every result with id <= `through`: the guest has them. */
  acknowledge(through: number): void {
    // One walk, oldest first (deleting the entry just visited is safe in a Map's iteration).
    for (const [id, result] of this.entries) {
      if (id > through) break;
      this.entries.delete(id);
      this.bytes -= resultBytes(result);
    }
  }

  private evictOldest(): void {
    const first = this.entries.entries().next();
    if (first.done === true) return;
    const [id, result] = first.value;
    this.entries.delete(id);
    this.bytes -= resultBytes(result);
  }
}
