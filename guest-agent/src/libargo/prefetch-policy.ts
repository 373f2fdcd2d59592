// SPDX-License-Identifier: Apache-2.0
/**
 * How many ring bytes a receive ring reads ahead (rx-ring.ts "What is read, and why"): the
 * policy half of the drain loop, kept apart from the ring reading so that each can be read and
 * tested on its own. Every byte read costs the hypervisor a copy, an encode and a frame, and
 * this guest a frame and a decode, so the guesses are sized from what the ring just did:
 * - A VIRQ pass prefetches the size of the last burst, and shrinks to one message's worth once
 *   such a prefetch found the ring empty (a VIRQ for data already consumed), so a spurious VIRQ
 *   wastes at most one message's bytes.
 * - After a publish, the prefetch covers the bytes already known to be in [rx, tx), plus, only
 *   while the sender is outpacing us (the last tx read found new data), as much again as
 *   arrived during the last turn. A turn that leaves the ring empty prefetches nothing.
 * It holds numbers only: no ring, no client.
 */

/**
 * Bounds of the adaptive data prefetch. The minimum covers one small message (a 64-byte
 * payload is 80 ring bytes) without reading much past it; the maximum bounds one read (and
 * so one result frame) while covering a few 64 KiB messages.
 */
export const PREFETCH_MIN = 256;
export const PREFETCH_MAX = 512 * 1024;

/** One ring's read-ahead guesses (see the module comment). */
export class PrefetchPolicy {
  /** Prefetch size of the next VIRQ pass: the last burst, or one message after a wasted one. */
  #burst = PREFETCH_MIN;
  /** Ring bytes of the last message taken (header included): the smallest useful prefetch. */
  #lastMessage = PREFETCH_MIN;
  /** Bytes that arrived during the last turn (between two tx reads). */
  #arrived = 0;
  /** Whether the last post-publish tx read found new data (the sender outpaces this reader). */
  #streaming = false;

  /** Bytes a VIRQ pass reads ahead. */
  get passBytes(): number {
    return this.#burst;
  }

  /**
   * A VIRQ pass's prefetch came back with `available` unread bytes in the ring: none means it
   * was wasted, so the next pass reads only one message's worth (enough to deliver the next
   * message in one round trip, never a whole burst).
   */
  passFound(available: number): void {
    this.#burst = available === 0 ? Math.max(PREFETCH_MIN, this.#lastMessage) : available;
  }

  /** A turn took messages; the last one was `ringBytes` long (header included). */
  took(ringBytes: number): void {
    this.#lastMessage = ringBytes;
  }

  /** A turn deferred its publish: no tx read follows, so nothing is known about the sender. */
  deferred(): void {
    this.#streaming = false;
    this.#arrived = 0;
  }

  /** Bytes to read ahead with a publish, when `known` unread bytes are in the ring already. */
  afterPublish(known: number): number {
    return known + (this.#streaming ? this.#arrived : 0);
  }

  /**
   * The publish's tx read found `nowAvailable` unread bytes where `known` were before: what
   * arrived while the turn ran sizes the next prefetch.
   */
  published(known: number, nowAvailable: number): void {
    this.#arrived = Math.max(0, nowAvailable - known);
    this.#streaming = this.#arrived > 0;
    if (this.#streaming) this.#burst = Math.max(PREFETCH_MIN, nowAvailable);
  }
}
