// SPDX-License-Identifier: Apache-2.0
/**
 * Deferred rx publishing for the rings that opt in (rx-ring.ts "Deferred publish"): a drained
 * ring's rx store rides, with one notify(NULL) for all of them, in front of the next multicall
 * this guest sends — a channel's send (as part of its prelude) or the endpoint's next drain
 * pass — and what no multicall took goes out on its own:
 * - the virtio-argo channels' rings on a backstop timer (`PUBLISH_BACKSTOP_MS`): a request and
 *   its answer then cost each side a drain pass and a send, not a drain pass, a publish and a
 *   send;
 * - the datagram sockets' rings when the event loop is next idle (`setImmediate`): the store
 *   then leaves after the drained messages reached the application (their promise reactions
 *   run first), not in front of them, and it is two calls (store, notify) instead of a publish
 *   turn's three or four (store, notify, tx read, a prefetch when more data is expected): a
 *   VIRQ announces new data anyway.
 * One per endpoint.
 */
import type { HypercallClient, HypercallOp } from "../hypercall/hypercall-client.js";
import type { BatchPrelude } from "./batch-prelude.js";
import type { RxRing } from "./rx-ring.js";

/**
 * How long a deferred rx publish waits for a multicall to ride on. Short: a deferral happens
 * only while the sender still sees at least half the ring free, so at worst a sender whose
 * large message does not fit waits this long for the space.
 */
const PUBLISH_BACKSTOP_MS = 1;

/** Counters of the deferred publishes. */
export interface PublishStats {
  /** Rx stores that rode on another multicall. */
  publishesCarried: number;
  /** Rx stores sent alone: by the backstop timer, or when the event loop was idle. */
  publishBackstops: number;
}

/** The rings with a consumed but unpublished rx, and how their stores go out. */
export class DeferredPublisher {
  readonly #stats: PublishStats;
  readonly #client: HypercallClient;
  readonly #onFailure: (err: Error) => void;
  /** Rings with a deferred rx publish not yet taken by a multicall. */
  readonly #unpublished = new Set<RxRing>();
  #backstop: NodeJS.Timeout | undefined;
  #idle: NodeJS.Immediate | undefined;
  #closed = false;

  /**
   * `stats`: the owner's counters, kept up to date; `onFailure`: a publish that failed (it is
   * retried with the next multicall).
   */
  constructor(client: HypercallClient, stats: PublishStats, onFailure: (err: Error) => void) {
    this.#client = client;
    this.#stats = stats;
    this.#onFailure = onFailure;
  }

  /**
   * A ring consumed messages whose rx it did not publish (its `deferPublish` hook). `arm`:
   * start the backstop timer (not after a failed backstop: no retry loop on a dead link).
   */
  later(ring: RxRing, arm = true): void {
    this.#unpublished.add(ring);
    if (!arm || this.#closed || this.#backstop !== undefined) return;
    this.#backstop = setTimeout(() => {
      this.#backstop = undefined;
      this.#publishAlone();
    }, PUBLISH_BACKSTOP_MS);
  }

  /**
   * Like `later`, for a ring whose store should not wait for a multicall longer than it takes
   * the event loop to finish what it is doing (a datagram socket's: module comment). A store
   * that then fails waits for the next multicall, as a failed backstop's does.
   */
  whenIdle(ring: RxRing): void {
    this.#unpublished.add(ring);
    if (this.#closed || this.#idle !== undefined) return;
    this.#idle = setImmediate(() => {
      this.#idle = undefined;
      this.#publishAlone();
    });
  }

  /** Stops the backstop; what is still unpublished stays so (the rings are closing). */
  close(): void {
    this.#closed = true;
    if (this.#backstop !== undefined) clearTimeout(this.#backstop);
    if (this.#idle !== undefined) clearImmediate(this.#idle);
    this.#backstop = undefined;
    this.#idle = undefined;
  }

  /**
   * The deferred rx stores of every ring and one notify(NULL), as a prelude for a multicall
   * about to be issued; null when none is pending. A store that fails is deferred again: for
   * the backstop's own multicall only until the next one this guest sends.
   */
  take(backstop = false): BatchPrelude | null {
    if (this.#unpublished.size === 0) return null;
    const ops: HypercallOp[] = [];
    const taken: RxRing[] = [];
    for (const ring of this.#unpublished) {
      const op = ring.takePublish();
      if (op === null) continue;
      ops.push(op);
      taken.push(ring);
    }
    this.#unpublished.clear();
    if (taken.length === 0) return null;
    if (backstop) this.#stats.publishBackstops += taken.length;
    else this.#stats.publishesCarried += taken.length;
    ops.push({ op: "notify", ringData: null });
    const retry = (ring: RxRing): void => {
      ring.publishSettled(false);
      this.later(ring, !backstop);
    };
    return {
      ops,
      settle: (outcomes) => {
        let failure: Error | null = null;
        for (const [i, ring] of taken.entries()) {
          const o = outcomes[i];
          if (o?.op === "writeMemory" && o.ret === 0) continue;
          retry(ring);
          failure ??= new Error(`rx_ptr store of ring 0x${ring.aport.toString(16)} failed`);
        }
        const n = outcomes[taken.length];
        if (failure === null && (n?.op !== "notify" || n.ret < 0))
          failure = new Error("notify(NULL) after the rx stores failed");
        return failure;
      },
      abandon: (cause) => {
        for (const ring of taken) retry(ring);
        return new Error(`rx_ptr stores failed: ${String(cause)}`);
      },
    };
  }

  /** The backstop: publishes what no multicall took (module comment). */
  #publishAlone(): void {
    const prelude = this.take(true);
    if (prelude === null) return;
    this.#client.batch(prelude.ops).then(
      (outcomes) => {
        const failure = prelude.settle(outcomes);
        if (failure !== null) this.#onFailure(failure);
      },
      (err: unknown) => {
        this.#onFailure(prelude.abandon(err));
      },
    );
  }
}
