// SPDX-License-Identifier: Apache-2.0
/**
 * `FloodGuard`: detects a notification flood — kicks from a hostile driver, interrupts from a
 * hostile device (virtio-argo.md §4.9: "rate-limit signals, given the CVE-2021-287xx lesson on
 * high-frequency events"). Notifications are idempotent and the transports coalesce them (one
 * queue run per event-loop turn however many arrive), so a flood cannot multiply work; what is
 * left is to notice it. `hit()` counts one notification and returns true the first time a
 * window exceeds its budget, so the caller reports one violation per flooded window.
 */
export class FloodGuard {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #count = 0;
  #reported = false;

  /** More than `limit` hits within `windowMs` is a flood. */
  constructor(limit: number, windowMs = 1000, now: () => number = () => performance.now()) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts one notification; true exactly once per window that goes over the limit. */
  hit(): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#count = 0;
      this.#reported = false;
    }
    this.#count++;
    if (this.#count > this.#limit && !this.#reported) {
      this.#reported = true;
      return true;
    }
    return false;
  }
}
