// SPDX-License-Identifier: Apache-2.0
/**
 * The send half every Argo channel shares — a datagram socket (dgram-socket.ts) and a
 * virtio-argo channel (virtio-argo/channel/vioa-channel.ts) — in the spirit of the OpenXT Linux
 * driver's `pending_xmit` path (argo-spec §7.1 "Flow control", §5.4). The owner decides what a
 * multicall carries (its `build`: staging writes, a prelude, one sendv per message, the sendvs
 * last); the sender owns everything else: the FIFO, one multicall in flight at a time, and the
 * ladder each sendv's outcome goes down.
 *
 * Every multicall runs with `stopOnError`, so when sendv k fails with -EAGAIN, k+1.. were not
 * executed and stay queued behind k: order is kept. On -EAGAIN the hypervisor has queued a
 * space waiter for this domain on the destination ring; it fires VIRQ_ARGO when the receiver
 * notifies after consuming. The sender then parks until the next VIRQ and retries the sendv
 * itself (rather than Linux's notify-with-entries round trip first: a retry that finds the ring
 * still full simply re-arms the waiter, so one round trip is saved in the common case). To close
 * the race where the VIRQ overtakes the batch's reply, the endpoint counts VIRQs and a sender
 * retries at once if one arrived since its batch went out. -EBUSY (32 waiters already queued,
 * so none was queued for us) is retried on a backing-off timer, and a slow periodic retry backs
 * up any wake-up lost to a ring teardown (§5.4: unregister drops waiters silently). Any other
 * negative ret fails that message with the owner's error.
 */
import { Errno } from "@hmx/proto/abi";
import type {
  HypercallClient,
  HypercallOp,
  HypercallOutcome,
} from "../hypercall/hypercall-client.js";
import { skippedAfterFailure } from "./outcomes.js";

/** Retry delays for -EBUSY, and the backstop retry of a parked sender. */
const EBUSY_RETRY_MIN_MS = 2;
const EBUSY_RETRY_MAX_MS = 200;
const PARKED_BACKSTOP_MS = 1000;

/** A parked sender, woken by the endpoint on every VIRQ. */
export interface Wakeable {
  wake(): void;
}

/** What a sender needs from its guest's endpoint (libargo's `ArgoEndpoint` implements it). */
export interface SenderHost {
  readonly client: HypercallClient;
  /** VIRQs seen so far (a send retries at once if one arrived while its batch was out). */
  virqCount(): number;
  /** Wake `sender` on the next VIRQ. */
  park(sender: Wakeable): void;
  unpark(sender: Wakeable): void;
}

/** The send counters; the owner's stats object holds them among its own. */
export interface SenderStats {
  sent: number;
  sentBytes: number;
  /** sendv calls that came back -EAGAIN (each one is retried, not lost). */
  eagains: number;
  /** sendv calls that came back -EBUSY (no waiter queued; retried on a timer). */
  ebusys: number;
  /** Multicalls issued by the send path. */
  batches: number;
  /** Sends that failed for good. */
  sendErrors: number;
}

/** What every channel counts: its sender's calls and its ring's messages. */
export interface ChannelStats extends SenderStats {
  received: number;
  receivedBytes: number;
  /** Received messages of another message type (or source), dropped. */
  dropped: number;
  /** Times the ring was found corrupt and recovered (rx = tx). */
  corruptions: number;
}

/** A channel's counters, all zero. */
export function channelStats(): ChannelStats {
  return {
    sent: 0,
    sentBytes: 0,
    received: 0,
    receivedBytes: 0,
    eagains: 0,
    ebusys: 0,
    batches: 0,
    dropped: 0,
    corruptions: 0,
    sendErrors: 0,
  };
}

/** The queued messages, front first, as the owner's `build` sees them. */
export interface SendQueueView<M> {
  readonly pending: number;
  /** The `i`-th message from the front. */
  at(i: number): M | undefined;
}

/** One multicall the owner built for the front `count` messages of the queue. */
export interface SendBatch<M> {
  /**
   * The calls: whatever the sendvs need first, then one sendv per message, then the
   * `trailing` calls, last.
   */
  readonly ops: readonly HypercallOp[];
  readonly count: number;
  /**
   * Calls after the sendvs (default 0) that must run only once every sendv of the batch was
   * accepted: the multicall runs with `stopOnError`, so a sendv that fails (-EAGAIN included)
   * skips them. What a request/reply server needs to consume a request only together with
   * its answer (dgram-socket.ts `SendOptions.answers`): after a crash at any instant, a request
   * is either still in its ring or consumed and answered.
   */
  readonly trailing?: number;
  /** The outcomes are in and the prefix ran: `trailing`'s outcomes, to see whether they ran. */
  settleTrailing?(outcomes: readonly HypercallOutcome[]): void;
  /**
   * The outcomes are in: the error every message of the batch fails with when a call before
   * the sendvs failed (stopOnError skipped them all), else null.
   */
  checkPrefix(outcomes: readonly HypercallOutcome[]): ((m: M) => Error) | null;
  /** The multicall failed as a whole (the link): nothing says which calls ran. */
  lost(cause: unknown): (m: M) => Error;
  /** Runs once the multicall settled either way (before the outcomes are looked at). */
  finish?(): void;
}

/** What the sender asks of its owner. */
export interface SendOwner<M> {
  /** The next multicall (the queue is not empty), or the error the front message fails with. */
  build(queue: SendQueueView<M>): SendBatch<M> | Error;
  /** A sendv failed for good with `ret` (not -EAGAIN / -EBUSY). */
  refused(m: M, ret: number): Error;
  /** A sendv came back as a status the hypervisor gave instead of a ret. */
  status(m: M, code: number, message: string): Error;
  /** The channel closed before the message was sent. */
  closed(m: M): Error;
  /** Defensive: building or reading a batch threw. */
  broken(m: M, err: unknown): Error;
}

interface Queued<M> {
  readonly m: M;
  readonly resolve: (bytes: number) => void;
  readonly reject: (err: Error) => void;
}

/** An ordered sender (see the module comment). */
export class ArgoSender<M> implements Wakeable, SendQueueView<M> {
  readonly #host: SenderHost;
  readonly #owner: SendOwner<M>;
  readonly #stats: SenderStats;
  // A FIFO (array + head index, so that shifting is O(1)).
  #queue: Queued<M>[] = [];
  #head = 0;
  #pump: Promise<void> | null = null;
  #parked = false;
  #timer: NodeJS.Timeout | null = null;
  #ebusyDelayMs = EBUSY_RETRY_MIN_MS;
  #closing = false;

  constructor(host: SenderHost, owner: SendOwner<M>, stats: SenderStats) {
    this.#host = host;
    this.#owner = owner;
    this.#stats = stats;
  }

  /** Queues `m`; resolves with the payload bytes once the hypervisor put it in the ring. */
  send(m: M): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ m, resolve, reject });
      this.#kick();
    });
  }

  /** Messages queued and not yet accepted by the hypervisor. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  at(i: number): M | undefined {
    return this.#queue[this.#head + i]?.m;
  }

  /** A VIRQ arrived (or the retry timer ran out): a parked sender tries again. */
  wake(): void {
    if (!this.#parked) return;
    this.#unpark();
    this.#kick();
  }

  /**
   * The batch in flight completes; everything queued behind it rejects with the owner's
   * `closed` error. Resolves once nothing is in flight.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#unpark();
    this.#kick(); // a parked or idle pump runs once more to reject what is queued
    await this.#pump;
  }

  #unpark(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#parked) {
      this.#parked = false;
      this.#host.unpark(this);
    }
  }

  /** Waits for a VIRQ (or `ms`) before the next attempt. */
  #park(ms: number): void {
    // A closing sender does not wait: the pump goes on to reject what is queued.
    if (this.#closing) return;
    this.#parked = true;
    this.#host.park(this);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.wake();
    }, ms);
  }

  #kick(): void {
    if (this.#pump !== null || this.#parked || this.pending === 0) return;
    this.#pump = this.#run().finally(() => {
      this.#pump = null;
      // Messages queued while the last batch's outcome was being handled.
      if (!this.#parked && this.pending > 0) this.#kick();
    });
  }

  #shift(): Queued<M> | undefined {
    const q = this.#queue[this.#head];
    if (q === undefined) return undefined;
    this.#queue[this.#head] = undefined as unknown as Queued<M>; // let the GC have it
    this.#head++;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return q;
  }

  #fail(q: Queued<M>, err: Error): void {
    this.#stats.sendErrors++;
    q.reject(err);
  }

  /** Fails the front `count` messages with `error`. */
  #failFront(count: number, error: (m: M) => Error): void {
    for (let k = 0; k < count; k++) {
      const q = this.#shift();
      if (q !== undefined) this.#fail(q, error(q.m));
    }
  }

  /** Sends batches until the queue is empty or the sender parks; one batch at a time. */
  async #run(): Promise<void> {
    while (this.pending > 0 && !this.#parked) {
      if (this.#closing) {
        for (let q = this.#shift(); q !== undefined; q = this.#shift())
          q.reject(this.#owner.closed(q.m));
        return;
      }
      try {
        await this.#batch();
      } catch (err) {
        // Defensive: whatever went wrong, fail the front message so that the queue progresses.
        const q = this.#shift();
        if (q !== undefined) this.#fail(q, this.#owner.broken(q.m, err));
      }
    }
  }

  async #batch(): Promise<void> {
    const batch = this.#owner.build(this);
    if (batch instanceof Error) {
      this.#failFront(1, () => batch);
      return;
    }
    const { ops, count } = batch;
    const trailing = batch.trailing ?? 0;
    const first = ops.length - count - trailing;
    const virqsBefore = this.#host.virqCount();
    this.#stats.batches++;
    let outcomes: HypercallOutcome[];
    try {
      outcomes = await this.#host.client.batch(ops, { stopOnError: true });
    } catch (err) {
      // Resending could duplicate: fail the batch's messages and let the caller decide.
      this.#failFront(count, batch.lost(err));
      return;
    } finally {
      batch.finish?.();
    }
    const prefixFailure = batch.checkPrefix(outcomes);
    if (prefixFailure !== null) {
      this.#failFront(count, prefixFailure);
      return;
    }
    if (trailing > 0) batch.settleTrailing?.(outcomes.slice(first + count));
    for (let k = 0; k < count; k++) {
      const o = outcomes[first + k];
      const q = this.#queue[this.#head];
      if (o === undefined || q === undefined) return;
      if (o.op === "status") {
        if (skippedAfterFailure(o.code)) return; // skipped after an earlier failure: stays queued
        this.#shift();
        this.#fail(q, this.#owner.status(q.m, o.code, o.message));
        continue;
      }
      const ret = o.op === "sendv" ? o.ret : -Errno.EINVAL;
      if (ret >= 0) {
        this.#shift();
        this.#stats.sent++;
        this.#stats.sentBytes += ret;
        this.#ebusyDelayMs = EBUSY_RETRY_MIN_MS;
        q.resolve(ret);
        continue;
      }
      if (ret === -Errno.EAGAIN) {
        this.#stats.eagains++;
        // A VIRQ since the batch went out may be the wake-up for the waiter just queued.
        if (this.#host.virqCount() === virqsBefore) this.#park(PARKED_BACKSTOP_MS);
        return;
      }
      if (ret === -Errno.EBUSY) {
        this.#stats.ebusys++;
        this.#park(this.#ebusyDelayMs);
        this.#ebusyDelayMs = Math.min(this.#ebusyDelayMs * 2, EBUSY_RETRY_MAX_MS);
        return;
      }
      this.#shift();
      this.#fail(q, this.#owner.refused(q.m, ret));
    }
  }
}
