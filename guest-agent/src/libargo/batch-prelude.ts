// SPDX-License-Identifier: Apache-2.0
/**
 * A prelude: calls a multicall about to be issued runs first, so that they cost no round trip
 * of their own. Two kinds ride this way: the deferred rx stores of drained rings with their
 * notify(NULL) (deferred-publish.ts), and a virtio-argo front end's dirty driver memory
 * (`GuestRam.takeWrites`, vioa-channel.ts). A prelude is taken in the same synchronous step as
 * its multicall is issued, so what it writes is in place before any later multicall of this
 * guest can read it.
 */
import type { HypercallOp, HypercallOutcome } from "../hypercall/hypercall-client.js";

/** Calls to run at the front of a multicall. Exactly one of `settle` / `abandon` is called. */
export interface BatchPrelude {
  readonly ops: readonly HypercallOp[];
  /** The outcomes of `ops` (undefined for none); returns the failure, or null. */
  settle(outcomes: readonly (HypercallOutcome | undefined)[]): Error | null;
  /** The multicall failed as a whole; returns the error to report. */
  abandon(cause: unknown): Error;
}

/** Takes the prelude of the multicall being built; null when there is nothing to run first. */
export type PreludeSource = () => BatchPrelude | null;

/** Two preludes as one (`a`'s calls first); null when both are. */
export function combinePreludes(
  a: BatchPrelude | null,
  b: BatchPrelude | null,
): BatchPrelude | null {
  if (a === null) return b;
  if (b === null) return a;
  const n = a.ops.length;
  return {
    ops: [...a.ops, ...b.ops],
    settle: (outcomes) => {
      const fa = a.settle(outcomes.slice(0, n));
      const fb = b.settle(outcomes.slice(n, n + b.ops.length));
      return fa ?? fb;
    },
    abandon: (cause) => {
      const ea = a.abandon(cause);
      b.abandon(cause);
      return ea;
    },
  };
}
