// SPDX-License-Identifier: Apache-2.0
/**
 * Bounded waits for tests: every wait names what it waits for, so a timeout says which
 * condition never held, and every wait ends (tests never loop unbounded).
 */
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";

export interface UntilOptions {
  /** Give up after this long (default 5 s). */
  readonly timeoutMs?: number;
  /** Poll period (default 20 ms). */
  readonly intervalMs?: number;
}

/** Polls `cond` until it holds; throws naming `what` once `timeoutMs` passed. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  options: UntilOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 20);
  }
}

/**
 * Lets the event loop turn (setImmediate) until `cond` holds, at most `turns` times: for
 * in-process tests whose work needs turns, not time. Throws naming `what` otherwise.
 */
export async function untilTurns(what: string, cond: () => boolean, turns = 200): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await nextTurn();
  if (!cond()) throw new Error(`${what}: not met within ${turns} event-loop turns`);
}
