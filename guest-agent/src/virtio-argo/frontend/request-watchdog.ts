// SPDX-License-Identifier: Apache-2.0
/**
 * The front end's watchdog over its data plane (virtio-argo.md §4.6; argo-transport.ts): a
 * chain with device-readable data (a request) must complete within the request timeout, or
 * the back end is hung and the device becomes FAILED with ETIMEDOUT. Receive buffers posted
 * in advance (net/console) wait for traffic, not for the back end, so they are never overdue
 * (`sentAt` 0). The timer checks a few times per timeout; `check` is the rule, on its own.
 */

/** A chain in flight: when it was sent, or 0 for a receive buffer. */
export interface SentChain {
  readonly sentAt: number;
}

/** A queue's chains in flight, by head. */
export interface WatchedQueue {
  readonly index: number;
  readonly inflight: ReadonlyMap<number, SentChain>;
}

/** Watches the requests in flight of a device's queues (see the module comment). */
export class RequestWatchdog {
  readonly timeoutMs: number;
  readonly #queues: () => Iterable<WatchedQueue>;
  readonly #overdue: (queue: number) => void;
  #timer: NodeJS.Timeout | undefined;

  /** `overdue`: called with the queue of a request found overdue (then the check stops). */
  constructor(
    timeoutMs: number,
    queues: () => Iterable<WatchedQueue>,
    overdue: (queue: number) => void,
  ) {
    this.timeoutMs = timeoutMs;
    this.#queues = queues;
    this.#overdue = overdue;
  }

  /** The first queue with a request sent more than `timeoutMs` before `now`, if any. */
  check(now: number): number | undefined {
    for (const q of this.#queues()) {
      for (const f of q.inflight.values()) {
        if (f.sentAt !== 0 && now - f.sentAt > this.timeoutMs) return q.index;
      }
    }
    return undefined;
  }

  /** (Re)starts the periodic check: a quarter of the timeout, within [50 ms, 1 s]. */
  start(): void {
    this.stop();
    const period = Math.max(50, Math.min(1000, Math.floor(this.timeoutMs / 4)));
    this.#timer = setInterval(() => {
      const queue = this.check(Date.now());
      if (queue !== undefined) this.#overdue(queue);
    }, period);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
