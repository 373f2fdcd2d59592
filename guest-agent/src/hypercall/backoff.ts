// SPDX-License-Identifier: Apache-2.0
/**
 * Exponential reconnect backoff with jitter for the Session stream. A guest whose link drops
 * must come back quickly (a chaos test drops links every few seconds) without a fleet of guests
 * reconnecting in lock-step after a hypervisor restart, so each delay is the exponential step
 * scaled down by a random fraction ("equal jitter" when `jitter` is 0.5).
 */

/** Tunables of the reconnect backoff. */
export interface BackoffOptions {
  /** First delay, in milliseconds (default 50). */
  readonly initialMs?: number;
  /** Largest delay, in milliseconds (default 2000). */
  readonly maxMs?: number;
  /** Growth factor per attempt (default 2). */
  readonly multiplier?: number;
  /** Fraction of each delay that is random, 0..1 (default 0.5). */
  readonly jitter?: number;
  /** Attempts before giving up; `Infinity` (the default) never gives up. */
  readonly maxAttempts?: number;
}

/** The defaults a guest agent uses. */
export const DEFAULT_BACKOFF = {
  initialMs: 50,
  maxMs: 2000,
  multiplier: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
} as const satisfies Required<BackoffOptions>;

/**
 * The delay sequence of one outage: `next()` gives the next delay or `undefined` once
 * `maxAttempts` delays were handed out; `reset()` starts over after a successful reconnect.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #multiplier: number;
  readonly #jitter: number;
  readonly #maxAttempts: number;
  readonly #random: () => number;
  #attempt = 0;

  /** @param random source of uniform [0, 1) numbers; injectable so tests are deterministic. */
  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.#initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
    this.#maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
    this.#multiplier = options.multiplier ?? DEFAULT_BACKOFF.multiplier;
    this.#jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts;
    if (!(this.#initialMs >= 0) || !(this.#maxMs >= this.#initialMs)) {
      throw new RangeError("backoff needs 0 <= initialMs <= maxMs");
    }
    if (!(this.#multiplier >= 1)) throw new RangeError("backoff multiplier must be >= 1");
    if (!(this.#jitter >= 0 && this.#jitter <= 1)) {
      throw new RangeError("backoff jitter must be within 0..1");
    }
    if (!(this.#maxAttempts >= 1)) throw new RangeError("backoff maxAttempts must be >= 1");
    this.#random = random;
  }

  /** Delays handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay in milliseconds, or `undefined` when the attempts are used up. */
  next(): number | undefined {
    if (this.#attempt >= this.#maxAttempts) return undefined;
    // Math.min before the power would overflow: the exponent is bounded by the cap anyway.
    const step = Math.min(this.#maxMs, this.#initialMs * this.#multiplier ** this.#attempt);
    this.#attempt += 1;
    return Math.round(step * (1 - this.#jitter * this.#random()));
  }

  /** Starts a new outage's sequence. */
  reset(): void {
    this.#attempt = 0;
  }
}
