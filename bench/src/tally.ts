// SPDX-License-Identifier: Apache-2.0
/**
 * The receiver's accounting for one phase: every message is checked against the phase's tag
 * and payload size, its sequence number is marked in a bitmap (so a duplicate, a gap or an
 * extra is seen, not guessed from a counter), and in a latency phase its one-way latency (now
 * minus the send time it carries) is recorded. `report(expected)` turns that into the numbers
 * the orchestrator checks: the benchmark fails loudly unless every sequence number in
 * [0, expected) arrived exactly once.
 */
import type { ReceiveReport } from "./ipc.js";
import { now, readPayload } from "./payload.js";

export interface TallyOptions {
  readonly tag: number;
  readonly size: number;
  /** Largest number of messages the phase can send (the bitmap's size). */
  readonly capacity: number;
  readonly recordLatency: boolean;
}

export class Tally {
  readonly #opts: TallyOptions;
  readonly #seen: Uint8Array;
  readonly #latencies: Float64Array | null;
  #received = 0;
  #distinct = 0;
  #duplicates = 0;
  #outOfOrder = 0;
  #outOfRange = 0;
  #foreign = 0;
  #badSize = 0;
  #highest = -1;
  #firstAt = 0;
  #lastAt = 0;

  constructor(options: TallyOptions) {
    this.#opts = options;
    this.#seen = new Uint8Array(options.capacity);
    this.#latencies = options.recordLatency ? new Float64Array(options.capacity) : null;
  }

  /** Messages of this phase received so far (duplicates included). */
  get received(): number {
    return this.#received;
  }

  /** Distinct in-range sequence numbers received so far. */
  get distinct(): number {
    return this.#distinct;
  }

  /** Accounts one received message; `at` defaults to now. */
  observe(data: Uint8Array, at: number = now()): void {
    const header = readPayload(data);
    if (header?.tag !== this.#opts.tag) {
      this.#foreign++;
      return;
    }
    this.#received++;
    if (this.#received === 1) this.#firstAt = at;
    this.#lastAt = at;
    if (data.length !== this.#opts.size) this.#badSize++;
    const { seq } = header;
    if (seq >= this.#opts.capacity) {
      this.#outOfRange++;
      return;
    }
    if (this.#seen[seq] !== 0) {
      this.#duplicates++;
      return;
    }
    this.#seen[seq] = 1;
    if (this.#latencies !== null) this.#latencies[this.#distinct] = (at - header.sentAt) * 1000;
    this.#distinct++;
    if (seq < this.#highest) this.#outOfOrder++;
    else this.#highest = seq;
  }

  /** The phase's report, judged against the sender's final count. */
  report(
    expected: number,
    timedOut: boolean,
    counters: Readonly<Record<string, number>>,
  ): ReceiveReport {
    const limit = Math.min(expected, this.#opts.capacity);
    let distinctInRange = 0;
    for (let i = 0; i < limit; i++) distinctInRange += this.#seen[i] ?? 0;
    // Sequence numbers in [expected, capacity) the sender never sent, yet they arrived.
    const beyond = this.#distinct - distinctInRange;
    return {
      expected,
      received: this.#received,
      distinct: distinctInRange,
      duplicates: this.#duplicates,
      missing: expected - distinctInRange,
      outOfOrder: this.#outOfOrder,
      outOfRange: this.#outOfRange + beyond,
      foreign: this.#foreign,
      badSize: this.#badSize,
      firstAt: this.#firstAt,
      lastAt: this.#lastAt,
      timedOut,
      latenciesUs: this.#latencies === null ? null : this.#latencies.slice(0, this.#distinct),
      counters,
    };
  }
}

/** Why a phase's delivery is not "every message exactly once", or null when it is. */
export function deliveryProblem(r: ReceiveReport): string | null {
  const problems: string[] = [];
  if (r.timedOut) problems.push(`timed out with ${r.distinct}/${r.expected} received`);
  if (r.missing !== 0) problems.push(`${r.missing} lost`);
  if (r.duplicates !== 0) problems.push(`${r.duplicates} duplicated`);
  if (r.outOfRange !== 0) problems.push(`${r.outOfRange} with a sequence number never sent`);
  if (r.badSize !== 0) problems.push(`${r.badSize} of the wrong size`);
  if (r.foreign !== 0) problems.push(`${r.foreign} foreign (other phase or malformed)`);
  return problems.length === 0 ? null : problems.join(", ");
}
