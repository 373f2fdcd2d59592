// SPDX-License-Identifier: Apache-2.0
/**
 * The send half every Argo channel shares — a datagram socket (dgram-socket.ts) and a
 * virtio-argo channel (virtio-argo/channel/vioa-channel.ts) — in the spirit of the OpenXT Linux
 * driver's `pending_xmit` path (argo-spec §7.1 "Flow control", §5.4). The owner decides what a
 * multicall carries (its `build`: staging writes, a prelude, one sendv per message, the sendvs
 * last); the sender owns everything else: the FIFO, the multicalls in flight, and the ladder
 * each sendv's outcome goes down.
 *
 * Every multicall runs with `stopOnError`, so when sendv k fails with -EAGAIN, k+1.. were not
 * executed and stay queued behind k: order is kept. With one multicall in flight (the default)
 * that is all. `maxInFlight` > 1 keeps the link busy while the hypervisor runs a batch (one in
 * flight left the sender's link idle between the answer and the next batch): the next batch is
 * built from the messages behind and sent at once, as a dependent batch (hypervisor.proto
 * `HypercallBatch.after`, `BatchOptions.chain`) that runs only if the last call of the one
 * before succeeded. When one stops, every batch behind it comes back ABORTED, unexecuted, so
 * nothing overtook the messages it left: the sender sends nothing more until they have all
 * settled, then the stopped batch's unsent messages and every message of the skipped batches
 * are the front of the queue again, in order, and go on as below (a full ring: wait). A client
 * whose hypervisor does not honour dependent batches gets one at a time. The owner's `build`
 * then runs while earlier batches are out; an owner whose batches rely on state the previous
 * batch's outcome settles (virtio-argo's staged bytes and prelude) keeps the default.
 *
 * On -EAGAIN the hypervisor has queued a
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
import { BatchChain } from "../hypercall/hypercall-client.js";
import { isFailure } from "../hypercall/wire-codec.js";
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

/** Tuning of a sender. */
export interface SenderOptions {
  /**
   * Most multicalls in flight at once (default 1). Above 1 only where the client honours
   * dependent batches (`HypercallClient.dependentBatches`), and only for an owner whose `build`
   * may run again while its earlier batches are out (module comment).
   */
  readonly maxInFlight?: number;
}

/** A multicall that went out, in the order they went out. */
interface InFlight<M> {
  readonly batch: SendBatch<M>;
  /** The outcomes, or why the multicall failed as a whole; never rejects. */
  readonly settled: Promise<HypercallOutcome[] | { readonly lost: unknown }>;
  readonly virqsBefore: number;
  /** Sent behind another batch still in flight, to run only if that one succeeded. */
  readonly dependent: boolean;
}

/** A queue past its first `ahead()` messages. */
class QueueTail<M> implements SendQueueView<M> {
  constructor(
    private readonly queue: SendQueueView<M>,
    private readonly ahead: () => number,
  ) {}

  get pending(): number {
    return this.queue.pending - this.ahead();
  }

  at(i: number): M | undefined {
    return this.queue.at(this.ahead() + i);
  }
}

/** An ordered sender (see the module comment). */
export class ArgoSender<M> implements Wakeable, SendQueueView<M> {
  readonly #host: SenderHost;
  readonly #owner: SendOwner<M>;
  readonly #stats: SenderStats;
  readonly #maxInFlight: number;
  // A FIFO (array + head index, so that shifting is O(1)). From the front: the messages a
  // stopped batch left unsent (`#held`, while the batches behind it settle), the messages of the
  // batches in flight (`#inFlightMessages`), then the unsent ones the next `build` sees.
  #queue: Queued<M>[] = [];
  #head = 0;
  readonly #inFlight: InFlight<M>[] = [];
  #inFlightMessages = 0;
  #held = 0;
  /** A batch did not go through whole: send nothing more until those in flight settled. */
  #stalled = false;
  /** The batches in flight, each after the one before (a new chain for each new pipeline). */
  #chain = new BatchChain();
  /** What `build` sees: the messages not in flight. */
  readonly #unsent: SendQueueView<M>;
  #pump: Promise<void> | null = null;
  #parked = false;
  #timer: NodeJS.Timeout | null = null;
  #ebusyDelayMs = EBUSY_RETRY_MIN_MS;
  #closing = false;
  #fillQueued = false;

  constructor(host: SenderHost, owner: SendOwner<M>, stats: SenderStats, options?: SenderOptions) {
    this.#host = host;
    this.#owner = owner;
    this.#stats = stats;
    this.#maxInFlight = Math.max(1, Math.floor(options?.maxInFlight ?? 1));
    this.#unsent = new QueueTail(this, () => this.#held + this.#inFlightMessages);
  }

  /** Queues `m`; resolves with the payload bytes once the hypervisor put it in the ring. */
  send(m: M): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ m, resolve, reject });
      if (this.#pump === null) this.#kick();
      else this.#fillSoon();
    });
  }

  /**
   * While batches are out, one more may go with what was queued since: at the end of this
   * task, so that the messages sent together in it share one multicall.
   */
  #fillSoon(): void {
    if (this.#fillQueued || this.#maxInFlight === 1) return;
    this.#fillQueued = true;
    queueMicrotask(() => {
      this.#fillQueued = false;
      // The pump settles what goes out here; with no pump, `#kick` starts one as ever.
      if (this.#pump === null) this.#kick();
      else while (this.#mayLaunch()) this.#launch();
    });
  }

  /** Messages queued and not yet accepted by the hypervisor (in flight included). */
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
   * The batches in flight complete; everything queued behind them rejects with the owner's
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
    if (this.#closing || this.#parked) return;
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

  /** Removes the message `offset` places from the front (the front itself but for a stall). */
  #take(offset: number): Queued<M> | undefined {
    if (offset > 0) {
      const at = this.#head + offset;
      if (at >= this.#queue.length) return undefined;
      return this.#queue.splice(at, 1)[0];
    }
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

  /** Fails `count` messages from `offset` places from the front with `error`. */
  #failAt(offset: number, count: number, error: (m: M) => Error): void {
    for (let k = 0; k < count; k++) {
      const q = this.#take(offset);
      if (q !== undefined) this.#fail(q, error(q.m));
    }
  }

  /**
   * Sends batches, up to `maxInFlight` at once, and settles them in the order they went out,
   * until the queue is empty or the sender parks and nothing is in flight.
   */
  async #run(): Promise<void> {
    for (;;) {
      if (this.#closing && this.#inFlight.length === 0) {
        for (let q = this.#take(0); q !== undefined; q = this.#take(0))
          q.reject(this.#owner.closed(q.m));
        return;
      }
      while (this.#mayLaunch()) this.#launch();
      const next = this.#inFlight[0];
      if (next === undefined) return;
      const settled = await next.settled;
      this.#inFlight.shift();
      try {
        this.#settle(next, settled);
      } catch (err) {
        // Defensive: whatever went wrong, fail the front message so that the queue progresses.
        this.#stalled = true;
        const q = this.#take(this.#held);
        if (q !== undefined) this.#fail(q, this.#owner.broken(q.m, err));
      }
      if (this.#inFlight.length === 0) {
        // Everything sent has settled: what a stopped batch left is the front of the queue.
        this.#stalled = false;
        this.#held = 0;
      }
    }
  }

  #mayLaunch(): boolean {
    if (this.#closing || this.#parked || this.#stalled) return false;
    if (this.#inFlightMessages + this.#held >= this.pending) return false;
    const n = this.#inFlight.length;
    if (n === 0) return true;
    return n < this.#maxInFlight && this.#host.client.dependentBatches === true;
  }

  /** Builds the next multicall from the unsent messages and sends it. */
  #launch(): void {
    let batch: SendBatch<M> | Error;
    try {
      batch = this.#owner.build(this.#unsent);
    } catch (err) {
      // Defensive: fail the message the batch would have started with.
      const q = this.#take(this.#held + this.#inFlightMessages);
      if (q !== undefined) this.#fail(q, this.#owner.broken(q.m, err));
      return;
    }
    if (batch instanceof Error) {
      const error = batch;
      this.#failAt(this.#held + this.#inFlightMessages, 1, () => error);
      return;
    }
    const dependent = this.#inFlight.length > 0;
    // A batch depends on the one before only while that one is out: the first of a pipeline
    // starts a new chain (the last one's outcome is known, and handled).
    if (!dependent) this.#chain = new BatchChain();
    const virqsBefore = this.#host.virqCount();
    this.#stats.batches++;
    let sent: Promise<HypercallOutcome[]>;
    try {
      sent = this.#host.client.batch(batch.ops, {
        stopOnError: true,
        ...(this.#maxInFlight > 1 ? { chain: this.#chain } : {}),
      });
    } catch (err) {
      sent = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const settled = sent.then(
      (outcomes) => outcomes,
      (lost: unknown) => ({ lost }),
    );
    this.#inFlight.push({ batch, settled, virqsBefore, dependent });
    this.#inFlightMessages += batch.count;
  }

  /**
   * The oldest batch in flight settled: its messages are the first `count` after those held.
   * Sent ones resolve, failed ones reject, and the first one stopOnError left unsent stays
   * queued, with every message after it (held until the batches behind it settle too: they
   * run only after this one's last call, so the hypervisor skips them whole).
   */
  #settle(f: InFlight<M>, settled: HypercallOutcome[] | { readonly lost: unknown }): void {
    const { batch } = f;
    const { ops, count } = batch;
    this.#inFlightMessages -= count;
    batch.finish?.();
    const at = this.#held;
    if (!Array.isArray(settled)) {
      // Resending could duplicate: fail the batch's messages and let the caller decide.
      this.#stalled = true;
      this.#failAt(at, count, batch.lost((settled as { lost: unknown }).lost));
      return;
    }
    const outcomes = settled;
    const lead = outcomes[0];
    if (f.dependent && lead?.op === "status" && skippedAfterFailure(lead.code)) {
      // The batch before stopped, so this one ran none of its calls: all of it stays queued.
      this.#stalled = true;
      this.#held += count;
      return;
    }
    const trailing = batch.trailing ?? 0;
    const first = ops.length - count - trailing;
    const prefixFailure = batch.checkPrefix(outcomes);
    if (prefixFailure !== null) {
      this.#stalled = true;
      this.#failAt(at, count, prefixFailure);
      return;
    }
    if (trailing > 0) batch.settleTrailing?.(outcomes.slice(first + count));
    for (let k = 0; k < count; k++) {
      const o = outcomes[first + k];
      const q = this.#queue[this.#head + at];
      if (o === undefined || q === undefined) {
        this.#stall(count - k);
        return;
      }
      if (o.op === "status") {
        if (skippedAfterFailure(o.code)) {
          // Skipped after an earlier failure: stays queued.
          this.#stall(count - k);
          return;
        }
        this.#take(at);
        this.#fail(q, this.#owner.status(q.m, o.code, o.message));
        continue;
      }
      const ret = o.op === "sendv" ? o.ret : -Errno.EINVAL;
      if (ret >= 0) {
        this.#take(at);
        this.#stats.sent++;
        this.#stats.sentBytes += ret;
        this.#ebusyDelayMs = EBUSY_RETRY_MIN_MS;
        q.resolve(ret);
        continue;
      }
      if (ret === -Errno.EAGAIN) {
        this.#stats.eagains++;
        // A VIRQ since the batch went out may be the wake-up for the waiter just queued.
        if (this.#host.virqCount() === f.virqsBefore) this.#park(PARKED_BACKSTOP_MS);
        this.#stall(count - k);
        return;
      }
      if (ret === -Errno.EBUSY) {
        this.#stats.ebusys++;
        this.#park(this.#ebusyDelayMs);
        this.#ebusyDelayMs = Math.min(this.#ebusyDelayMs * 2, EBUSY_RETRY_MAX_MS);
        this.#stall(count - k);
        return;
      }
      this.#take(at);
      this.#fail(q, this.#owner.refused(q.m, ret));
    }
    // A failure in the trailing calls skipped nothing of this batch's messages, but the
    // batches behind it ran after its last call: they were skipped.
    const last = outcomes[ops.length - 1];
    if (last === undefined || isFailure(last)) this.#stalled = true;
  }

  /** The batch stopped with `unsent` of its messages left: they stay queued, held. */
  #stall(unsent: number): void {
    this.#stalled = true;
    this.#held += unsent;
  }
}
