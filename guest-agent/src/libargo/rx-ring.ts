// SPDX-License-Identifier: Apache-2.0
/**
 * A registered receive ring in the guest's own memory: the guest half of argo-spec §3.2
 * (registration), §4.1 (layout) and §4.6 (consumption). Mirrors the OpenXT Linux driver's
 * `allocate_ring` / `register_ring` (zeroed pointers, data filled with 0x5a) and the read side
 * of `_argo_copy_out` followed by `argo_null_notify`: after consuming, the new `rx_ptr` is
 * stored and `notify(NULL)` is issued so that the hypervisor fires the space waiters of blocked
 * senders (§5.4: waiters fire only when the ring owner notifies).
 *
 * The ring's pages are one contiguous gfn run, so its data is contiguous in guest-physical
 * memory too: the unread bytes are one ReadMemory, or two when they wrap. Round trips are
 * saved by batching: the rx store, the notify and the next tx read travel as one multicall,
 * followed, when more data is known or expected, by a prefetch of the data from the new rx.
 * Reading tx before the data in one in-order multicall is what makes the prefetch safe: the
 * hypervisor publishes tx only after the data it covers (argo-spec §4.3 step 9), so every byte
 * in [rx, tx) was in place before the prefetch read it; bytes past tx are never looked at.
 *
 * What is read, and why (every byte read costs the hypervisor a copy, an encode and a frame,
 * and this guest a frame and a decode; the sizes are `PrefetchPolicy`'s, prefetch-policy.ts):
 * - A turn consumes the complete messages it HAS (from the prefetch) and publishes rx at once;
 *   it reads the rest of [rx, tx) only when not even one message is complete. A streaming ring
 *   therefore costs one round trip per turn, and a full ring is freed for the sender early.
 * - The prefetch after a publish covers the bytes already known to be in [rx, tx), plus, only
 *   while the sender is outpacing us (the last tx read found new data), as much again as
 *   arrived during the last turn. A turn that leaves the ring empty prefetches nothing, so an
 *   idle or paced ring reads only 4 bytes of tx after each message.
 * - The prefetch of a VIRQ pass (`passOps`) is the size of the last burst, and shrinks to
 *   one message's worth once such a prefetch found the ring empty (a VIRQ for data already
 *   consumed), so a spurious VIRQ wastes at most one message's bytes.
 * - With `prefetchWraps` (the virtio-argo hub), a prefetch that reaches the end of the ring
 *   continues at its start (a second read in the same multicall): a large message (a
 *   virtio-argo fragment of a 1 MiB request) mostly wraps, and reading only up to the end
 *   cost one more round trip per message. The burst is a guess, so a wrong one then reads up
 *   to a ring's worth for nothing; virtio-argo cuts chains into even fragments
 *   (fragmenter.ts) so that the guess holds. Sockets keep the end of the ring as the cap.
 *   Nor is such a prefetch held to PREFETCH_MAX: a virtio-blk ring holds a 1 MiB request in
 *   one message, and a 512 KiB cap read it in two round trips.
 * - Payloads are handed to the sink as views of the fetched buffers (see ring-reader.ts), not
 *   copied again; headers and wrapped payloads are read from those buffers too, so there is
 *   no local image of the ring (a wrapping 1 MiB payload is copied once, into its message).
 *
 * Deferred publish (opt-in, `deferPublish`; the virtio-argo hub and the datagram sockets use
 * it, deferred-publish.ts says how long each waits). Publishing rx costs
 * a round trip of its own after every drain, although the sender only needs the space once the
 * ring fills up. A ring with a `deferPublish` hook therefore, when the hypervisor would still see
 * at most half the ring in use, only advances its local rx and hands itself to the hook; the
 * owner puts `takePublish()` (the rx store) and a notify(NULL) in front of the next multicall
 * this guest sends anyway (a send, the next VIRQ pass) or, failing that, publishes on a short
 * backstop, and reports the outcome with `publishSettled`. More data always arrives with a
 * VIRQ (every sendv raises one), so skipping the post-publish tx read loses nothing. A drain
 * that leaves more than half the ring in the hypervisor's view publishes at once, as above.
 *
 * Consume on answer (opt-in, `consumeOnAnswer`; the echo workload uses it). A request/reply
 * server must not consume a request before its reply is sent: an agent killed in between
 * would lose it. Such a ring never publishes rx itself; it advances its local rx, tells the
 * sink where each message ends, and the owner's reply multicall stores the rx past the
 * requests it answers AFTER their sendvs (`answerConsumeOps`, argo-sender.ts `trailing`), so
 * a sendv that fails (-EAGAIN) skips the store and the request stays in the ring.
 *
 * Pushed bytes (`acceptPush`). A VIRQ may carry ring bytes (hypervisor.proto `Virq.rings`),
 * each byte once per Session: an entry starts where the Session's previous entry for this ring
 * stopped. The ring keeps them as a window, contiguous from what it consumed, and a drain reads
 * its messages there rather than asking for them; an entry that does not continue the window
 * is dropped (its bytes are read when needed), so a lost or ignored push costs a read, never a
 * message. Entries are taken as they arrive, also while a drain is out, and each drain turn
 * takes the newest tx the ring learned. Positions are compared by their distance back from the
 * entry's tx: every one involved (where the hypervisor's rx was, where we consumed to, the
 * entry's start) lies in the ring length before that tx, because the hypervisor's rx is one we
 * published and we consume only up to a tx that arrived before the entry. A prefetch, unlike a
 * push, is valid only below the tx read with it: a newer tx does not extend it.
 *
 * Concurrency: only one `drain` runs at a time per ring (the endpoint serialises passes), and
 * `close` waits for it, so rx is never written into pages that were already freed. While a
 * drain's rx store is out, `takePublish` hands out nothing: a deferred store of an older rx,
 * run after it, would move rx back past data the sender may already have written into the
 * space the newer rx freed.
 */
import {
  ARGO_MAX_REGISTERABLE_RING_LEN,
  ARGO_MIN_RING_LEN,
  ARGO_MSG_SLOT_SIZE,
  ARGO_RING_HEADER_SIZE,
  ARGO_MSG_HEADER_SIZE,
  Errno,
  roundUpToSlot,
  MSG_LEN_OFFSET,
  npagesRing,
  RING_RX_PTR_OFFSET,
  RING_TX_PTR_OFFSET,
  ringBytesAvailable,
  ringLenForPages,
} from "@hmx/proto/abi";
import type {
  HypercallClient,
  HypercallOp,
  HypercallOutcome,
  VirqRing,
} from "../hypercall/hypercall-client.js";
import { ArgoSocketError, hypercallError } from "./errors.js";
import { readDataOf, retOf } from "./outcomes.js";
import { gfnsOf, type PageAllocator, type PageRun } from "./page-allocator.js";
import { PREFETCH_MAX, PREFETCH_MIN, PrefetchPolicy } from "./prefetch-policy.js";
import {
  isValidPtr,
  readRing,
  type RingCorruption,
  type RingMessage,
  type RingSpan,
} from "./ring-reader.js";

/**
 * Ring data read ahead, from ring offset `at` up to at most the end of the ring, and, when the
 * read wrapped, `head`: its continuation from ring offset 0.
 */
export interface Prefetch {
  readonly at: number;
  readonly data: Buffer;
  readonly head?: Buffer;
}

/** A VIRQ pass's calls for one ring (`RxRing.passOps`) and how to read their outcomes. */
export interface PassOps {
  /** The tx read, then one or two prefetch reads (two when the prefetch wraps). */
  readonly ops: readonly HypercallOp[];
  /** The tx and the prefetch, from the outcomes of `ops` starting at index `first`. */
  result(outcomes: readonly HypercallOutcome[], first: number): { tx: number; ahead: Prefetch };
}

/** Spans the pushed window may hold before they are joined (`#compactWindow`). */
const MAX_WINDOW_SPANS = 32;

/** Linux's `DEFAULT_RING_SIZE`: `ROUNDUP16(32 * 4096 - 80)` = 130,992 bytes, exactly 32 pages. */
export const DEFAULT_RING_LEN = ringLenForPages(32);

/** Where a ring's messages go; the socket that owns the ring implements it. */
export interface RingSink {
  /** How many more messages the consumer will take now (receive back-pressure). */
  room(): number;
  /** `ends`, on a `consumeOnAnswer` ring only: the rx_ptr just past each message. */
  deliver(messages: readonly RingMessage[], ends?: readonly number[]): void;
  corrupt(corruption: RingCorruption): void;
  /**
   * Calls that store the consumer's progress up to `rxPtr` (what it counted of the messages
   * delivered so far), run in front of the rx store that publishes `rxPtr`, in one multicall:
   * after a crash at any instant the progress and the rx_ptr agree (docs/state-guests.md).
   */
  progressOps?(rxPtr: number): readonly HypercallOp[];
}

export interface RxRingOptions {
  readonly aport: number;
  readonly partnerId: number;
  /** Ring data bytes; default `DEFAULT_RING_LEN`. A multiple of 16 in [48, 0xFFFFC0]. */
  readonly len?: number;
  /** Fill the data area with 0x5a before registering, as Linux does; default true. */
  readonly fill?: boolean;
  /**
   * Resume a ring a previous run of this agent registered at this first gfn (agent-state.ts):
   * take those exact pages back, keep their contents and rx_ptr, and re-register (which keeps
   * tx_ptr, argo-spec §3.2 step 10), so nothing that arrived meanwhile is lost.
   */
  readonly resumeGfn?: number;
  /**
   * With `resumeGfn`: the rx_ptr a consumer's progress record says it consumed up to
   * (`RingSink.progressOps`). The record is written before the rx store in one multicall, so
   * when the two differ the store was cut off and the record is right: the ring continues
   * from here, not from the header's rx_ptr.
   */
  readonly resumeRx?: number;
  /**
   * Calls to run right after the registerRing, in its multicall (skipped if it fails): the
   * agent state that records the ring (agent-state.ts), given the ring's first gfn.
   */
  readonly recordOps?: (gfn: number) => readonly HypercallOp[];
  /**
   * Opt in to deferred publishing (see the module comment): called with the ring when it has
   * consumed messages whose rx it did not publish; the owner must then `takePublish()` soon.
   */
  readonly deferPublish?: (ring: RxRing) => void;
  /**
   * Let a prefetch continue at the start of the ring (see the module comment); default false,
   * so a wrong burst guess wastes at most the bytes up to the end of the ring. The virtio-argo
   * hub opts in: its fragments are even, so the guess holds.
   */
  readonly prefetchWraps?: boolean;
  /** Never publish rx from a drain: the owner's answers do (module comment, "Consume on answer"). */
  readonly consumeOnAnswer?: boolean;
}

/** Checks a ring length the way register_ring will (argo-spec §3.2 step 3). */
export function validateRingLen(len: number): void {
  if (
    !Number.isInteger(len) ||
    len < ARGO_MIN_RING_LEN ||
    len > ARGO_MAX_REGISTERABLE_RING_LEN ||
    len % ARGO_MSG_SLOT_SIZE !== 0
  ) {
    throw new ArgoSocketError(
      "EINVAL",
      `ring len ${len} must be a multiple of 16 in [48, ${ARGO_MAX_REGISTERABLE_RING_LEN}]`,
      { ringLen: len },
    );
  }
}

/** A new ring's header and data as Linux writes them: zeroed pointers, data 0x5a if `fill`. */
function newRingImage(len: number, fill: boolean): Buffer {
  const image = Buffer.alloc(fill ? ARGO_RING_HEADER_SIZE + len : ARGO_RING_HEADER_SIZE);
  if (fill) image.fill(0x5a, ARGO_RING_HEADER_SIZE);
  return image;
}

/** One registered receive ring. */
export class RxRing {
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly #client: HypercallClient;
  readonly #allocator: PageAllocator;
  readonly #run: PageRun;
  /**
   * The rx_ptr up to which this guest consumed; only this guest writes rx, so the local copy is
   * authoritative. Published at once, or later with a deferred publish (`#published`).
   */
  #rxPtr = 0;
  /**
   * The rx_ptr last handed out for publishing (in flight or done), or -1 when a publish
   * failed; differs from `#rxPtr` while a deferred publish is pending.
   */
  #published = 0;
  readonly #deferPublish: ((ring: RxRing) => void) | undefined;
  readonly #prefetchWraps: boolean;
  readonly #consumeOnAnswer: boolean;
  /** How much to read ahead (prefetch-policy.ts). */
  readonly #prefetch = new PrefetchPolicy();
  /**
   * The rx just past the last message handed to the sink: `#rxPtr`, except while a drain's
   * publish of it is out. Where the pushed bytes (`#window`) start.
   */
  #consumedTo = 0;
  /** Bytes the VIRQs pushed (module comment, "Pushed bytes"), contiguous from `#consumedTo`. */
  #window: RingSpan[] = [];
  #windowBytes = 0;
  /** The newest tx_ptr this ring learned (a VIRQ's, a read's); -1 before any. */
  #txKnown = -1;
  /** Whether VIRQs ever pushed this ring's bytes: a drain then reads no data ahead itself. */
  #pushes = false;
  /** A drain's rx store is out (`takePublish` waits for it). */
  #publishing = false;
  #draining: Promise<void> | null = null;
  #closed: Promise<void> | null = null;

  private constructor(
    client: HypercallClient,
    allocator: PageAllocator,
    run: PageRun,
    options: {
      aport: number;
      partnerId: number;
      len: number;
      deferPublish?: ((ring: RxRing) => void) | undefined;
      prefetchWraps?: boolean | undefined;
      consumeOnAnswer?: boolean | undefined;
    },
  ) {
    this.#client = client;
    this.#deferPublish = options.deferPublish;
    this.#prefetchWraps = options.prefetchWraps === true;
    this.#consumeOnAnswer = options.consumeOnAnswer === true;
    this.#allocator = allocator;
    this.#run = run;
    this.aport = options.aport;
    this.partnerId = options.partnerId;
    this.len = options.len;
  }

  /**
   * Allocates `NPAGES_RING(len)` contiguous pages, zeroes the header (rx = tx = 0), optionally
   * fills the data with 0x5a, and registers the ring with flags 0 (Linux's choice: an existing
   * ring of the same id and length is re-registered onto these pages, which is what a restarted
   * agent needs; a different length is -EEXIST). A negative ret rejects with an
   * `ArgoSocketError` (EPERM for a wildcard ring without mac-permissive, ESRCH for a missing
   * partner, ENOSPC at 128 rings, ...); the pages are freed again.
   */
  static async register(
    client: HypercallClient,
    allocator: PageAllocator,
    options: RxRingOptions,
  ): Promise<RxRing> {
    const len = options.len ?? DEFAULT_RING_LEN;
    validateRingLen(len);
    const npages = npagesRing(len);
    const { aport, partnerId, resumeGfn } = options;
    const run =
      resumeGfn === undefined ? allocator.allocate(npages) : allocator.reserve(resumeGfn, npages);
    const ring = new RxRing(client, allocator, run, {
      aport,
      partnerId,
      len,
      deferPublish: options.deferPublish,
      prefetchWraps: options.prefetchWraps,
      consumeOnAnswer: options.consumeOnAnswer,
    });
    // A new ring starts from a zeroed header (rx = tx = 0); a resumed one keeps its header and
    // data, and its header is read to continue from the rx_ptr we last published.
    const first: HypercallOp =
      resumeGfn === undefined
        ? { op: "writeMemory", gpa: run.gpa, data: newRingImage(len, options.fill !== false) }
        : { op: "readMemory", gpa: run.gpa, length: 8 };
    try {
      const outcomes = await client.batch(
        [
          first,
          { op: "registerRing", aport, partnerId, len, gfns: gfnsOf(run), flags: 0 },
          ...(options.recordOps?.(run.gfn) ?? []),
        ],
        { stopOnError: true },
      );
      const hret = retOf(outcomes, 0, first.op);
      if (hret < 0)
        throw hypercallError(
          first.op === "writeMemory" ? "ring header write" : "ring header read",
          hret,
          { aport },
        );
      const ret = retOf(outcomes, 1, "registerRing");
      if (ret < 0) {
        const what = resumeGfn === undefined ? "registerRing" : "registerRing (resume)";
        throw hypercallError(`${what} aport 0x${aport.toString(16)} partner ${partnerId}`, ret, {
          op: "registerRing",
          aport,
          partnerId,
          ringLen: len,
        });
      }
      if (resumeGfn !== undefined) {
        // Continue from the rx_ptr we last published, sanitised as the hypervisor does (§4.5).
        const rx = roundUpToSlot(readDataOf(outcomes, 0).readUInt32LE(RING_RX_PTR_OFFSET));
        ring.#published = rx >= len ? 0 : rx;
        const { resumeRx } = options;
        const recorded =
          resumeRx !== undefined && resumeRx < len && resumeRx % ARGO_MSG_SLOT_SIZE === 0;
        // A recorded rx ahead of the header's is published with the next consumption.
        ring.#rxPtr = recorded ? resumeRx : ring.#published;
        ring.#consumedTo = ring.#rxPtr;
      }
      return ring;
    } catch (err) {
      allocator.free(run);
      throw err;
    }
  }

  /** First gfn of the ring's pages (recorded in the agent state so a restart can resume it). */
  get gfn(): number {
    return this.#run.gfn;
  }

  /** Guest-physical address of the 64-byte ring header. */
  get gpa(): number {
    return this.#run.gpa;
  }

  /** The rx_ptr up to which this guest consumed (published, or about to be). */
  get rxPtr(): number {
    return this.#rxPtr;
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  /**
   * Deferred publishing (module comment): the op that stores the consumed rx, or null when it
   * is published already (or the ring is closed). The caller runs it, with a notify(NULL) after
   * it, and reports with `publishSettled`.
   */
  takePublish(): HypercallOp | null {
    // Not while a drain's own rx store is out: this one would carry the rx from before it, and,
    // run after it, move rx back, past where the sender may already have written (the space
    // the newer rx freed): the hypervisor would then count that data as free space.
    if (this.#closed !== null || this.#publishing || this.#published === this.#rxPtr) return null;
    this.#published = this.#rxPtr;
    const rxBytes = Buffer.allocUnsafe(4);
    rxBytes.writeUInt32LE(this.#rxPtr, 0);
    return { op: "writeMemory", gpa: this.#run.gpa + RING_RX_PTR_OFFSET, data: rxBytes };
  }

  /** The outcome of a `takePublish` op: a failed one is taken again by the next call. */
  publishSettled(ok: boolean): void {
    if (!ok) this.#published = -1;
  }

  /** The rx_ptr just past each of `messages`, read from `rx` (each takes its header, slot-rounded). */
  #endsOf(rx: number, messages: readonly RingMessage[]): number[] {
    let at = rx;
    return messages.map((m) => {
      at = roundUpToSlot(at + ARGO_MSG_HEADER_SIZE + m.data.length);
      if (at >= this.len) at -= this.len;
      return at;
    });
  }

  /**
   * On a `consumeOnAnswer` ring: the rx store (then a notify(NULL), to fire the senders' space
   * waiters) that consumes every request up to `rxAfter`, for the end of the multicall whose
   * sendvs answer them; none when `rxAfter` is published already or is not a position this
   * ring has read up to (a store must never move rx back). Report with `answerConsumed`.
   */
  answerConsumeOps(rxAfter: number): HypercallOp[] {
    const ahead = ringBytesAvailable(this.len, this.#published, rxAfter);
    const read = ringBytesAvailable(this.len, this.#published, this.#rxPtr);
    if (this.#closed !== null || ahead === 0 || ahead > read) return [];
    const rxBytes = Buffer.allocUnsafe(4);
    rxBytes.writeUInt32LE(rxAfter, 0);
    return [
      { op: "writeMemory", gpa: this.#run.gpa + RING_RX_PTR_OFFSET, data: rxBytes },
      { op: "notify", ringData: null },
    ];
  }

  /** An `answerConsumeOps` store ran: the hypervisor now sees rx at `rxAfter`. */
  answerConsumed(rxAfter: number): void {
    this.#published = rxAfter;
  }

  /** The op that reads this ring's tx_ptr (for batching the headers of many rings). */
  readTxOp(): HypercallOp {
    return { op: "readMemory", gpa: this.#run.gpa + RING_TX_PTR_OFFSET, length: 4 };
  }

  /**
   * The calls of a VIRQ pass for this ring: `readTxOp()`, then the prefetch of ring data from
   * the current rx, in this order in one multicall (see the module comment).
   */
  passOps(): PassOps {
    const at = this.#rxPtr;
    const prefetch = this.#prefetchFrom(at, this.#prefetch.passBytes);
    return {
      ops: [this.readTxOp(), ...prefetch],
      result: (outcomes, first) => ({
        tx: readDataOf(outcomes, first).readUInt32LE(0),
        ahead: prefetchOf(at, outcomes, first + 1, prefetch.length),
      }),
    };
  }

  /**
   * What a VIRQ carried for this ring (`VirqRing`, hypervisor.proto `Virq.rings`): its tx,
   * and bytes [at, at + data.length) of the ring, which it keeps for the drains while they
   * continue what it holds (module comment, "Pushed bytes"). False when the entry describes
   * another ring (a different length) or lies outside this one: nothing is taken from it.
   */
  acceptPush(pushed: VirqRing): boolean {
    if (pushed.len !== this.len) return false;
    const { at, txPtr: tx, data } = pushed;
    // The hypervisor's word, checked like every tx this ring reads: an entry out of bounds is
    // not used, and the pass reads the ring itself.
    if (!isValidPtr(this.len, tx) || !Number.isInteger(at) || at < 0 || at + data.length > this.len)
      return false;
    this.#learnTx(tx);
    if (data.length === 0 || this.#closed !== null) return true;
    // Every position involved lies in the last ring length before the event's tx (module
    // comment), so each is placed by its distance back from that tx, without ambiguity.
    const base = this.#consumedTo;
    const baseBack = ringBytesAvailable(this.len, base, tx);
    const atBack = ringBytesAvailable(this.len, at, tx);
    if (atBack >= baseBack) {
      // The span starts at or before what we consumed: its tail from `base`, if any, is the
      // window when it holds more than the window does (the bytes are the same ring's).
      const skip = atBack - baseBack;
      if (skip < data.length && data.length - skip > this.#windowBytes) {
        this.#window = [{ at: base, data: data.subarray(skip) }];
        this.#windowBytes = data.length - skip;
        this.#pushes = true;
      }
    } else if (baseBack - atBack === this.#windowBytes) {
      // It continues the window exactly (the hypervisor's cursor went on from there).
      this.#window.push({ at, data });
      this.#windowBytes += data.length;
      this.#pushes = true;
      if (this.#window.length > MAX_WINDOW_SPANS) this.#compactWindow();
    }
    return true;
  }

  /** The newest tx this ring learned (its rx before it learned any). */
  get knownTx(): number {
    return this.#txKnown < 0 ? this.#rxPtr : this.#txKnown;
  }

  /** Whether the newest tx this ring learned is ahead of what it consumed. */
  hasUnread(): boolean {
    return this.#txKnown >= 0 && this.#txKnown !== this.#consumedTo;
  }

  /** Keeps `tx` when it is newer than what this ring knew (further from what it consumed). */
  #learnTx(tx: number): void {
    const base = this.#consumedTo;
    if (
      this.#txKnown < 0 ||
      ringBytesAvailable(this.len, base, tx) > ringBytesAvailable(this.len, base, this.#txKnown)
    )
      this.#txKnown = tx;
  }

  /** The newer of `tx` and what this ring learned since (a bad `tx` as it is, to report). */
  #newestTx(tx: number): number {
    if (!isValidPtr(this.len, tx)) return tx;
    this.#learnTx(tx);
    return this.#txKnown;
  }

  /** The sink took the messages up to `rx`: the window loses the bytes they were. */
  #consumed(rx: number): void {
    let drop = ringBytesAvailable(this.len, this.#consumedTo, rx);
    this.#consumedTo = rx;
    if (drop >= this.#windowBytes) {
      this.#forgetWindow();
      return;
    }
    this.#windowBytes -= drop;
    while (drop > 0) {
      const first = this.#window[0];
      if (first === undefined) break;
      if (first.data.length <= drop) {
        drop -= first.data.length;
        this.#window.shift();
      } else {
        const rest = first.at + drop;
        this.#window[0] = {
          at: rest >= this.len ? rest - this.len : rest,
          data: first.data.subarray(drop),
        };
        drop = 0;
      }
    }
  }

  /** Joins the window's first spans until the first holds a header's bytes (or all of them). */
  #joinWindowHead(): void {
    const parts: Buffer[] = [];
    let bytes = 0;
    const at = this.#window[0]?.at ?? 0;
    while (bytes < ARGO_MSG_HEADER_SIZE && this.#window.length > 0) {
      const span = this.#window.shift();
      if (span === undefined) break;
      parts.push(span.data);
      bytes += span.data.length;
    }
    this.#window.unshift({ at, data: Buffer.concat(parts, bytes) });
  }

  /**
   * The window as one span, or two when it wraps: the reader looks bytes up span by span, so
   * many small pushes (a VIRQ each while a drain was out) would make each lookup a long scan.
   */
  #compactWindow(): void {
    const runs: RingSpan[][] = [];
    for (const span of this.#window) {
      const run = runs.at(-1);
      const last = run?.at(-1);
      if (run !== undefined && last !== undefined && last.at + last.data.length === span.at)
        run.push(span);
      else runs.push([span]);
    }
    this.#window = runs.map((run) => ({
      at: run[0]?.at ?? 0,
      data: Buffer.concat(run.map((span) => span.data)),
    }));
  }

  #forgetWindow(): void {
    this.#window = [];
    this.#windowBytes = 0;
  }

  /**
   * The window's spans cut to its first `n` bytes, the first holding a whole message header
   * when `n` does (`firstMessageIn` reads it there; a header never wraps, so the spans joined
   * for it are adjacent).
   */
  #windowSpans(n: number): RingSpan[] {
    const first = this.#window[0];
    if (first !== undefined && first.data.length < ARGO_MSG_HEADER_SIZE && this.#window.length > 1)
      this.#joinWindowHead();
    const spans: RingSpan[] = [];
    let left = n;
    for (const span of this.#window) {
      if (left <= 0) break;
      spans.push(
        span.data.length <= left ? span : { at: span.at, data: span.data.subarray(0, left) },
      );
      left -= span.data.length;
    }
    return spans;
  }

  /**
   * Reads of `length` ring bytes from `rx` (at most the whole ring; at most PREFETCH_MAX unless
   * `prefetchWraps`): one op, or two when they wrap, so a message that wraps arrives whole in
   * this round trip instead of needing one more.
   */
  #prefetchFrom(rx: number, length: number): HypercallOp[] {
    const total = this.#prefetchWraps
      ? Math.min(length, this.len)
      : Math.min(length, PREFETCH_MAX, this.len - rx);
    const first = Math.min(total, this.len - rx);
    const dataGpa = this.#run.gpa + ARGO_RING_HEADER_SIZE;
    const ops: HypercallOp[] = [{ op: "readMemory", gpa: dataGpa + rx, length: first }];
    if (total > first) ops.push({ op: "readMemory", gpa: dataGpa, length: total - first });
    return ops;
  }

  /**
   * Consumes messages into `sink` until the ring is empty, the sink is full, or the ring
   * closes. `txPtr` is the tx_ptr the caller just read. Serialised: a second call while one
   * runs waits for it and returns.
   */
  async drain(txPtr: number, sink: RingSink, prefetched?: Prefetch): Promise<void> {
    if (this.#draining !== null) return this.#draining;
    this.#draining = this.#drainLoop(txPtr, sink, prefetched).finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  /** `prefetched`: the bytes `prefetchOp()` read from the current rx, if the caller has them. */
  async #drainLoop(txPtr: number, sink: RingSink, prefetched?: Prefetch): Promise<void> {
    try {
      await this.#drainTurns(txPtr, sink, prefetched);
    } catch (err) {
      // A publish that failed leaves rx where the hypervisor last took it: the window, kept
      // from the rx this drain reached, no longer starts there.
      if (this.#consumedTo !== this.#rxPtr) {
        this.#consumedTo = this.#rxPtr;
        this.#forgetWindow();
      }
      throw err;
    }
  }

  async #drainTurns(txPtr: number, sink: RingSink, prefetched?: Prefetch): Promise<void> {
    let tx = txPtr;
    let ahead = prefetched;
    // The tx read with `ahead`: only its bytes below that tx were in place when they were
    // read; a newer tx (a VIRQ's) says nothing about them.
    let aheadTx = txPtr;
    // A VIRQ pass: did its prefetch find anything?
    if (ahead?.at === this.#rxPtr)
      this.#prefetch.passFound(ringBytesAvailable(this.len, this.#rxPtr, tx));
    const dataGpa = this.#run.gpa + ARGO_RING_HEADER_SIZE;
    // Bounded: each turn either consumes at least one message (rx moves), recovers (rx = tx),
    // or leaves; a ring cannot produce more than the sender's rate of messages. Each turn
    // takes the newest tx this ring learned, a VIRQ's during the last turn included.
    while (this.#closed === null && this.#rxPtr !== (tx = this.#newestTx(tx))) {
      const room = sink.room();
      if (room <= 0) return;
      const rx = this.#rxPtr;
      // tx is the hypervisor's word; never read outside our ring because of it.
      if (!isValidPtr(this.len, tx)) {
        sink.corrupt({ reason: "tx_ptr invalid", rxPtr: rx, txPtr: tx, discardedBytes: 0 });
        return;
      }
      const available = ringBytesAvailable(this.len, rx, tx);
      const firstPart = Math.min(available, this.len - rx);
      // A prefetch from this rx covers a prefix of [rx, len), then maybe one of [0, rx).
      const usable = ahead?.at === rx ? ahead : undefined;
      ahead = undefined;
      const valid = usable === undefined ? 0 : ringBytesAvailable(this.len, rx, aheadTx);
      let covered = Math.min(usable?.data.length ?? 0, firstPart, valid);
      let spans: RingSpan[] = [];
      // Fetched bytes stay in their buffers (spans); `readRing` reads them there, so they are
      // not copied into the image (a 1 MiB message was copied there and then out again).
      if (usable !== undefined && covered > 0)
        spans.push({ at: rx, data: usable.data.subarray(0, covered) });
      // The wrapped part of the prefetch counts only once [rx, len) is whole (bytes past tx
      // are never looked at, as above).
      const head = covered === firstPart ? usable?.head : undefined;
      const wrapped = Math.min(head?.length ?? 0, available - firstPart, valid - firstPart);
      if (head !== undefined && wrapped > 0) {
        spans.push({ at: 0, data: head.subarray(0, wrapped) });
        covered += wrapped;
      }
      // The bytes the VIRQs pushed, when they hold more from this rx.
      const pushed = this.#consumedTo === rx ? Math.min(this.#windowBytes, available) : 0;
      if (pushed > covered) {
        spans = this.#windowSpans(pushed);
        covered = pushed;
      }
      if (!firstMessageIn(spans[0], rx, covered, available)) {
        // Not even one whole message yet: fetch the rest of [rx, tx), exactly (two reads
        // when it wraps).
        const restAt = (rx + covered) % this.len;
        const rest = available - covered;
        const first = Math.min(rest, this.len - restAt);
        const reads: { op: HypercallOp; at: number }[] = [
          { op: { op: "readMemory", gpa: dataGpa + restAt, length: first }, at: restAt },
        ];
        if (rest > first)
          reads.push({ op: { op: "readMemory", gpa: dataGpa, length: rest - first }, at: 0 });
        const got = await this.#client.batch(reads.map((r) => r.op));
        reads.forEach((r, i) => {
          spans.push({ at: r.at, data: readDataOf(got, i) });
        });
        covered = available;
        if (this.closed) return; // closed while the read was out
      }

      const result = readRing({
        len: this.len,
        rxPtr: rx,
        txPtr: tx,
        // Every byte it reads is in a span (the fetches from rx), so no ring image is kept:
        // a 1 MiB blk ring cost a 1 MiB image on each side.
        ring: NO_IMAGE,
        maxMessages: room,
        limit: covered,
        spans,
      });
      const newRx = result.rxPtr;
      this.#consumed(newRx);
      // Deferred publish (module comment): decided before delivering, so a send the sink makes
      // while it takes the messages already carries this rx store.
      // A consume-on-answer ring holds its rx for the owner's answers (module comment).
      const held = this.#consumeOnAnswer && newRx !== rx;
      const defer =
        newRx !== rx &&
        !held &&
        this.#deferPublish !== undefined &&
        this.#published >= 0 &&
        ringBytesAvailable(this.len, this.#published, tx) <= this.len / 2;
      if (defer || held) {
        this.#rxPtr = newRx;
        this.#prefetch.deferred();
        if (defer) this.#deferPublish(this);
      }
      const last = result.messages.at(-1);
      if (last !== undefined) {
        this.#prefetch.took(ARGO_MSG_HEADER_SIZE + last.data.length);
        if (held) sink.deliver(result.messages, this.#endsOf(rx, result.messages));
        else sink.deliver(result.messages);
      }
      if (result.corruption !== null) sink.corrupt(result.corruption);
      if (newRx === rx) return; // nothing consumable (only a bad tx does that)
      if (defer || held) continue;

      // Publish rx (§4.6 step 5), notify(NULL) to fire waiters (step 6), read the next tx and,
      // when data is known or expected there, prefetch from the new rx: all in one multicall,
      // executed in order, so the tx read sees everything sent so far.
      const known = ringBytesAvailable(this.len, newRx, tx);
      // A ring the VIRQs push to gets its next bytes that way: reading them too would copy
      // them twice.
      const want = this.#pushes ? 0 : this.#prefetch.afterPublish(known);
      const rxBytes = Buffer.allocUnsafe(4);
      rxBytes.writeUInt32LE(newRx, 0);
      // The consumer's progress first (RingSink.progressOps), then the rx store it goes with.
      const progress = sink.progressOps?.(newRx) ?? [];
      const ops: HypercallOp[] = [
        ...progress,
        { op: "writeMemory", gpa: this.#run.gpa + RING_RX_PTR_OFFSET, data: rxBytes },
        { op: "notify", ringData: null },
        this.readTxOp(),
      ];
      const prefetch = want > 0 ? this.#prefetchFrom(newRx, Math.max(want, PREFETCH_MIN)) : [];
      ops.push(...prefetch);
      let after: HypercallOutcome[];
      this.#publishing = true;
      try {
        after = await this.#client.batch(ops);
      } finally {
        this.#publishing = false;
      }
      const p = progress.length;
      for (let i = 0; i < p; i++) {
        const ret = retOf(after, i, "writeMemory");
        if (ret < 0) throw hypercallError("progress record write", ret, { aport: this.aport });
      }
      const wret = retOf(after, p, "writeMemory");
      if (wret < 0) throw hypercallError("rx_ptr write", wret, { aport: this.aport });
      this.#rxPtr = newRx;
      this.#published = newRx;
      tx = readDataOf(after, p + 2).readUInt32LE(0);
      aheadTx = tx;
      if (want > 0) ahead = prefetchOf(newRx, after, p + 3, prefetch.length);
      this.#prefetch.published(known, ringBytesAvailable(this.len, newRx, tx));
    }
  }

  /**
   * Unregisters the ring (argo-spec §3.3) and frees its pages, after any running drain has
   * finished. Idempotent. Resolves with unregister's ret (-ENOENT if the hypervisor already
   * tore the ring down, e.g. because the partner domain died, §5.5).
   */
  /** Resolves once no drain of this ring is running. */
  async idle(): Promise<void> {
    await this.#draining?.catch(() => undefined);
  }

  /**
   * Leaves the ring registered (its pages stay in use and keep receiving) and stops using it:
   * for an agent that will resume it after a restart. The pages are not freed.
   */
  detach(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closed = (async () => {
      await this.#draining?.catch(() => undefined);
    })();
    return this.#closed;
  }

  close(): Promise<number> {
    if (this.#closed !== null) return this.#closed.then(() => 0);
    let ret = 0;
    this.#closed = (async () => {
      await this.#draining?.catch(() => undefined);
      ret = await this.#client.unregisterRing(this.aport, this.partnerId);
      // Reuse the pages only once the hypervisor no longer maps them (unregistered now, or
      // already torn down: -ENOENT). If the call threw, or failed otherwise, the pages are
      // leaked on purpose: handing them out again could let sendv write into a staging buffer.
      if (ret === 0 || ret === -Errno.ENOENT) this.#allocator.free(this.#run);
    })();
    return this.#closed.then(() => ret);
  }
}

/** The `Prefetch` that `count` (1 or 2) reads from ring offset `at` returned at `outcomes[i]`. */
function prefetchOf(
  at: number,
  outcomes: readonly HypercallOutcome[],
  i: number,
  count: number,
): Prefetch {
  const data = readDataOf(outcomes, i);
  return count > 1 ? { at, data, head: readDataOf(outcomes, i + 1) } : { at, data };
}

const NO_IMAGE = Buffer.alloc(0);

/**
 * Whether the `covered` bytes fetched from `rx` hold the first message whole, or show that the
 * ring is corrupt there (the reader then reports it; fetching more would not help). `first` is
 * the span fetched from `rx`, which holds the header when 16 bytes or more were fetched (the
 * header never wraps).
 */
function firstMessageIn(
  first: RingSpan | undefined,
  rx: number,
  covered: number,
  available: number,
): boolean {
  if (covered >= available) return true;
  if (covered < ARGO_MSG_HEADER_SIZE || first?.at !== rx) return false;
  const hdrLen = first.data.readUInt32LE(MSG_LEN_OFFSET);
  return hdrLen < ARGO_MSG_HEADER_SIZE || hdrLen > available || hdrLen <= covered;
}
