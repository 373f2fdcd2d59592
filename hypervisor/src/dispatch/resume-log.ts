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

/**
 * Acknowledged or evicted slots are dropped from the arrays' front in one splice once this many
 * have piled up and they are at least half the arrays: the splice moves no more slots than were
 * dropped since the last one, so its cost is shared by as many calls.
 */
const COMPACT_AFTER = 256;

export class ResumeLog {
  /** Highest request id executed so far (0: none). */
  private highest = 0;
  /**
   * The unacknowledged results, oldest first: `ids[i]` answered `kept[i]`, for i >= `head`.
   * Ids are recorded in increasing order, so the arrays are sorted and the oldest sits at
   * `head`. Two arrays and an index, not a Map: every hypercall records one result and nearly
   * every batch acknowledges some, and appending plus moving an index costs a fraction of a
   * Map's hashed insert and delete (the log was the hypervisor's largest JavaScript function
   * at 64 B messages; docs/performance.md).
   */
  private readonly ids: number[] = [];
  private readonly kept: (HypercallResult | undefined)[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly limits: ResumeLogLimits) {}

  get lastExecuted(): number {
    return this.highest;
  }

  get size(): number {
    return this.ids.length - this.head;
  }

  /**
   * Slots the two arrays hold: the results kept plus a front of dropped ones not yet spliced
   * away. At most twice `maxEntries` (or 2 × COMPACT_AFTER): what the bookkeeping costs.
   */
  get slots(): number {
    return this.ids.length;
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
    const result = this.resultOf(requestId);
    return result === undefined ? { kind: "forgotten" } : { kind: "replay", result };
  }

  /** The result kept for `requestId` (undefined: never executed, or no longer kept). */
  resultOf(requestId: number): HypercallResult | undefined {
    // Binary search of the sorted ids; a replay after a reconnect asks for a recent id.
    const { ids } = this;
    let lo = this.head;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const id = ids[mid];
      if (id === undefined) break; // never: lo <= mid <= hi < ids.length
      if (id === requestId) return this.kept[mid];
      if (id < requestId) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * Keeps the result of `requestId`, which `decide` answered "execute" (so it is above every id
   * kept, and the arrays stay sorted).
   */
  record(requestId: number, result: HypercallResult): void {
    if (!(requestId > this.highest)) {
      throw new Error(
        `request id ${requestId} recorded after ${this.highest}: only a new id is executed and recorded`,
      );
    }
    this.highest = requestId;
    this.ids.push(requestId);
    this.kept.push(result);
    this.bytes += resultBytes(result);
    while (
      this.size > this.limits.maxEntries ||
      (this.bytes > this.limits.maxBytes && this.size > 1)
    ) {
      this.dropOldest();
    }
    this.compact();
  }

  /** The results kept, oldest first (`--state-dir` snapshots). */
  *results(): IterableIterator<[number, HypercallResult]> {
    for (let i = this.head; i < this.ids.length; i++) {
      const id = this.ids[i];
      const result = this.kept[i];
      if (id !== undefined && result !== undefined) yield [id, result];
    }
  }

  /**
   * Puts back a log a snapshot kept: `highest` and the results `results()` listed. Only on an
   * empty log (a restored domain's, before its first call).
   */
  restore(highest: number, results: Iterable<readonly [number, HypercallResult]>): void {
    if (this.highest !== 0 || this.size !== 0) {
      throw new Error("a resume log is restored only before its first use");
    }
    // The lookup's binary search needs increasing ids: a snapshot holding anything else is
    // refused, whole, rather than answering replays wrongly.
    const restored = [...results];
    let previous = 0;
    for (const [id] of restored) {
      if (!(id > previous && id <= highest)) {
        throw new Error(
          `a resume log's result ids must increase up to its last executed id ${highest}: ${id} follows ${previous}`,
        );
      }
      previous = id;
    }
    for (const [id, result] of restored) {
      this.ids.push(id);
      this.kept.push(result);
      this.bytes += resultBytes(result);
    }
    this.highest = highest;
  }

  /** Drops every result with id <= `through`: the guest has them. */
  acknowledge(through: number): void {
    for (;;) {
      const oldest = this.ids[this.head];
      if (oldest === undefined || oldest > through) break;
      this.dropOldest();
    }
    this.compact();
  }

  private dropOldest(): void {
    const result = this.kept[this.head];
    this.kept[this.head] = undefined; // the result is garbage now, even before compaction
    if (result !== undefined) this.bytes -= resultBytes(result);
    this.head++;
  }

  private compact(): void {
    const { head } = this;
    if (head < COMPACT_AFTER || head * 2 < this.ids.length) return;
    this.ids.splice(0, head);
    this.kept.splice(0, head);
    this.head = 0;
  }
}
