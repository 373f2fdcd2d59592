// SPDX-License-Identifier: Apache-2.0
/**
 * The Session's request-id window, with no stream and no gRPC in it: which batches have request
 * ids and are waiting for results, which still wait for room, which to write next, and how far
 * the client may acknowledge. `SessionClient` owns one; this file is the bookkeeping it used to
 * do inline, so that it can be tested on its own.
 *
 * A batch gets consecutive ids when it is admitted. At most `limit` calls are in flight (the
 * server's `resumeWindow`), except that a batch larger than the limit still goes out once nothing
 * else is in flight, so it cannot wait forever. In-flight batches are kept in id order; the ones
 * that completed at the front are retired, and the arrays are compacted now and then, so each
 * operation is O(1) amortised except `find`, a binary search.
 */

/** What the window needs to know of a batch. */
export interface WindowEntry {
  /** The first request id, set on admission. */
  firstId: number;
  readonly count: number;
  /** Leading calls whose results are all in: what may be acknowledged and skipped on resend. */
  prefix: number;
  done: boolean;
  /** The request id the batch runs after (HypercallBatch.after; 0 or absent: none). */
  readonly after?: number;
}

/** Compact the arrays once this many retired slots sit at their front. */
const COMPACT_AT = 1024;

export class RequestWindow<E extends WindowEntry> {
  #limit: number;
  #nextId = 1;
  /** Waiting for room (or for a connection); no ids yet. */
  #queue: (E | undefined)[] = [];
  #queueHead = 0;
  /** Admitted, in id order; `[#head, length)` are live. */
  #inflight: (E | undefined)[] = [];
  #head = 0;
  /** The next `#inflight` index to write on the current stream. */
  #cursor = 0;
  #calls = 0;
  /** Live batches that run after a request id (`WindowEntry.after`). */
  #dependent = 0;

  /** @param onAdmit called with each batch as it gets its ids (e.g. to stamp its calls). */
  constructor(
    limit: number,
    private readonly onAdmit: (entry: E) => void = () => undefined,
  ) {
    this.#limit = limit;
  }

  /** The id the next admitted call gets. */
  get nextId(): number {
    return this.#nextId;
  }

  /** Calls in admitted batches that have not completed. */
  get inFlight(): number {
    return this.#calls;
  }

  /** Batches waiting for room. */
  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** The most calls in flight (the server's resume window). */
  get limit(): number {
    return this.#limit;
  }

  set limit(calls: number) {
    this.#limit = calls;
  }

  /** Never hand out an id the domain already executed (a restarted agent, a restarted server). */
  skipPast(lastExecuted: number): void {
    if (lastExecuted >= this.#nextId) this.#nextId = lastExecuted + 1;
  }

  enqueue(entry: E): void {
    this.#queue.push(entry);
  }

  /** Gives queued batches their ids while the window has room. */
  admit(): void {
    const queue = this.#queue;
    while (this.#queueHead < queue.length) {
      const e = queue[this.#queueHead];
      if (e === undefined) break;
      if (this.#calls > 0 && this.#calls + e.count > this.#limit) break;
      queue[this.#queueHead++] = undefined;
      e.firstId = this.#nextId;
      this.#nextId += e.count;
      this.#inflight.push(e);
      this.#calls += e.count;
      this.onAdmit(e);
      if ((e.after ?? 0) > 0) this.#dependent++;
    }
    if (this.#queueHead === queue.length) {
      queue.length = 0;
      this.#queueHead = 0;
    } else if (this.#queueHead >= COMPACT_AT) {
      queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /** The next admitted batch not yet written on this stream (skipping completed ones). */
  nextToWrite(): E | undefined {
    while (this.#cursor < this.#inflight.length) {
      const e = this.#inflight[this.#cursor++];
      if (e !== undefined && !e.done) return e;
    }
    return undefined;
  }

  /** A new stream: every live batch is to be written again, oldest first. */
  rewind(): void {
    this.#cursor = this.#head;
  }

  /**
   * Highest id such that every result up to it is in (0: none), short of any id a live batch
   * runs after: the hypervisor looks that one up in its resume log whenever a call of the batch
   * has yet to run (on a resend too), and an acknowledged result is gone from it.
   */
  ackThrough(): number {
    const e = this.#inflight[this.#head];
    if (e === undefined) return this.#nextId - 1;
    let ack = e.firstId + e.prefix - 1;
    // Only chained batches have one (a few per sending socket), so most clients never scan.
    if (this.#dependent > 0) {
      for (const d of this.live()) {
        const after = d.after ?? 0;
        if (after > 0 && after <= ack) ack = after - 1;
      }
    }
    return ack;
  }

  /** The live batch holding request id `id` (undefined: unknown or already completed). */
  find(id: number): E | undefined {
    const inflight = this.#inflight;
    let lo = this.#head;
    const head = inflight[lo];
    // Results arrive in id order, so the answer is nearly always the oldest batch.
    if (head !== undefined && id >= head.firstId && id < head.firstId + head.count) {
      return head.done ? undefined : head;
    }
    let hi = inflight.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = inflight[mid];
      if (e === undefined) return undefined;
      if (id < e.firstId) hi = mid - 1;
      else if (id >= e.firstId + e.count) lo = mid + 1;
      else return e.done ? undefined : e;
    }
    return undefined;
  }

  /** Marks a batch completed; `retire` then drops it once it reaches the front. */
  complete(entry: E): void {
    entry.done = true;
    this.#calls -= entry.count;
    if ((entry.after ?? 0) > 0) this.#dependent--;
  }

  /** Admitted batches that have not completed, in id order. */
  *live(): Generator<E> {
    for (let i = this.#head; i < this.#inflight.length; i++) {
      const e = this.#inflight[i];
      if (e !== undefined && !e.done) yield e;
    }
  }

  /** Drops completed batches from the front. */
  retire(): void {
    const inflight = this.#inflight;
    while (this.#head < inflight.length && inflight[this.#head]?.done === true) {
      inflight[this.#head++] = undefined;
    }
    if (this.#head === inflight.length) {
      inflight.length = 0;
      this.#head = this.#cursor = 0;
      return;
    }
    if (this.#cursor < this.#head) this.#cursor = this.#head;
    if (this.#head >= COMPACT_AT && this.#head * 2 >= inflight.length) {
      inflight.splice(0, this.#head);
      this.#cursor -= this.#head;
      this.#head = 0;
    }
  }

  /** Empties the window: every live admitted batch, then every queued one, for rejecting. */
  drain(): E[] {
    const out = [...this.live()];
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const e = this.#queue[i];
      if (e !== undefined) out.push(e);
    }
    this.#inflight = [];
    this.#queue = [];
    this.#head = this.#queueHead = this.#cursor = this.#calls = this.#dependent = 0;
    return out;
  }
}
