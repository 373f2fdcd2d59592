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
 * followed by a prefetch of the data from the new rx (up to the end of the ring, sized by what
 * the last turn found). When the prefetch covers [rx, tx) the turn needs no second round trip.
 * Reading tx before the data in one in-order multicall is what makes the prefetch safe: the
 * hypervisor publishes tx only after the data it covers (argo-spec §4.3 step 9), so every byte
 * in [rx, tx) was in place before the prefetch read it; bytes past tx are never looked at.
 *
 * Concurrency: only one `drain` runs at a time per ring (the endpoint serialises passes), and
 * `close` waits for it, so rx is never written into pages that were already freed.
 */
import {
  ARGO_MAX_REGISTERABLE_RING_LEN,
  ARGO_MIN_RING_LEN,
  ARGO_MSG_SLOT_SIZE,
  ARGO_RING_HEADER_SIZE,
  Errno,
  npagesRing,
  RING_RX_PTR_OFFSET,
  RING_TX_PTR_OFFSET,
  ringLenForPages,
} from "@hmx/proto/abi";
import type { HypercallClient, HypercallOp } from "../hypercall/hypercall-client.js";
import { ArgoSocketError, hypercallError } from "./errors.js";
import { readDataOf, retOf } from "./outcomes.js";
import { gfnsOf, type PageAllocator, type PageRun } from "./page-allocator.js";
import {
  readRing,
  ringBytesAvailable,
  type RingCorruption,
  type RingMessage,
} from "./ring-reader.js";

/** Ring data read ahead, from ring offset `at`. */
export interface Prefetch {
  readonly at: number;
  readonly data: Buffer;
}

/** Bounds of the adaptive data prefetch. */
const PREFETCH_MIN = 512;
const PREFETCH_MAX = 64 * 1024;

/** Linux's `DEFAULT_RING_SIZE`: `ROUNDUP16(32 * 4096 - 80)` = 130,992 bytes, exactly 32 pages. */
export const DEFAULT_RING_LEN = ringLenForPages(32);

/** Where a ring's messages go; the socket that owns the ring implements it. */
export interface RingSink {
  /** How many more messages the consumer will take now (receive back-pressure). */
  room(): number;
  deliver(messages: readonly RingMessage[]): void;
  corrupt(corruption: RingCorruption): void;
}

export interface RxRingOptions {
  readonly aport: number;
  readonly partnerId: number;
  /** Ring data bytes; default `DEFAULT_RING_LEN`. A multiple of 16 in [48, 0xFFFFC0]. */
  readonly len?: number;
  /** Fill the data area with 0x5a before registering, as Linux does; default true. */
  readonly fill?: boolean;
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

/** One registered receive ring. */
export class RxRing {
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly #client: HypercallClient;
  readonly #allocator: PageAllocator;
  readonly #run: PageRun;
  /** Local image of the ring data; the reader parses it. Bytes outside [rx, tx) are stale. */
  readonly #shadow: Buffer;
  /** The rx_ptr last published; only this guest writes it, so the local copy is authoritative. */
  #rxPtr = 0;
  /** Bytes to prefetch with the next tx read: what the last turn found, within bounds. */
  #prefetch = PREFETCH_MIN;
  #draining: Promise<void> | null = null;
  #closed: Promise<void> | null = null;

  private constructor(
    client: HypercallClient,
    allocator: PageAllocator,
    run: PageRun,
    options: { aport: number; partnerId: number; len: number },
  ) {
    this.#client = client;
    this.#allocator = allocator;
    this.#run = run;
    this.aport = options.aport;
    this.partnerId = options.partnerId;
    this.len = options.len;
    this.#shadow = Buffer.alloc(options.len);
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
    const run = allocator.allocate(npages);
    const ring = new RxRing(client, allocator, run, {
      aport: options.aport,
      partnerId: options.partnerId,
      len,
    });
    try {
      const image = Buffer.alloc(
        options.fill === false ? ARGO_RING_HEADER_SIZE : ARGO_RING_HEADER_SIZE + len,
      );
      if (options.fill !== false) image.fill(0x5a, ARGO_RING_HEADER_SIZE);
      const outcomes = await client.batch(
        [
          { op: "writeMemory", gpa: run.gpa, data: image },
          {
            op: "registerRing",
            aport: options.aport,
            partnerId: options.partnerId,
            len,
            gfns: gfnsOf(run),
            flags: 0,
          },
        ],
        { stopOnError: true },
      );
      const wret = retOf(outcomes, 0, "writeMemory");
      if (wret < 0) throw hypercallError("ring header write", wret, { aport: options.aport });
      const ret = retOf(outcomes, 1, "registerRing");
      if (ret < 0) {
        throw hypercallError(
          `registerRing aport 0x${options.aport.toString(16)} partner ${options.partnerId}`,
          ret,
          { op: "registerRing", aport: options.aport, partnerId: options.partnerId, ringLen: len },
        );
      }
      return ring;
    } catch (err) {
      allocator.free(run);
      throw err;
    }
  }

  /** Guest-physical address of the 64-byte ring header. */
  get gpa(): number {
    return this.#run.gpa;
  }

  /** The rx_ptr this guest last published. */
  get rxPtr(): number {
    return this.#rxPtr;
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  /** The op that reads this ring's tx_ptr (for batching the headers of many rings). */
  readTxOp(): HypercallOp {
    return { op: "readMemory", gpa: this.#run.gpa + RING_TX_PTR_OFFSET, length: 4 };
  }

  /**
   * The op that prefetches ring data from the current rx (never past the end of the ring); it
   * must come after `readTxOp()` in the same multicall (see the module comment).
   */
  prefetchOp(): HypercallOp {
    return this.#prefetchFrom(this.#rxPtr);
  }

  #prefetchFrom(rx: number): HypercallOp {
    return {
      op: "readMemory",
      gpa: this.#run.gpa + ARGO_RING_HEADER_SIZE + rx,
      length: Math.min(this.#prefetch, this.len - rx),
    };
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
    let tx = txPtr;
    let ahead = prefetched;
    const dataGpa = this.#run.gpa + ARGO_RING_HEADER_SIZE;
    // Bounded: each turn either consumes at least one message (rx moves), recovers (rx = tx),
    // or leaves; a ring cannot produce more than the sender's rate of messages.
    while (this.#closed === null && this.#rxPtr !== tx) {
      const room = sink.room();
      if (room <= 0) return;
      const rx = this.#rxPtr;
      // tx is the hypervisor's word; never read outside our ring because of it.
      if (!(tx < this.len && tx % ARGO_MSG_SLOT_SIZE === 0)) {
        sink.corrupt({ reason: "tx_ptr invalid", rxPtr: rx, txPtr: tx, discardedBytes: 0 });
        return;
      }
      const available = ringBytesAvailable(this.len, rx, tx);
      this.#prefetch = Math.min(PREFETCH_MAX, Math.max(PREFETCH_MIN, available));
      const firstPart = Math.min(available, this.len - rx);
      // A prefetch from this rx never wraps: it covers a prefix of [rx, len).
      const usable = ahead?.at === rx ? ahead.data : undefined;
      const covered = Math.min(usable?.length ?? 0, firstPart);
      if (usable !== undefined && covered > 0) usable.copy(this.#shadow, rx, 0, covered);
      ahead = undefined;
      const reads: { op: HypercallOp; at: number }[] = [];
      if (covered < firstPart) {
        const gpa = dataGpa + rx + covered;
        reads.push({
          op: { op: "readMemory", gpa, length: firstPart - covered },
          at: rx + covered,
        });
      }
      if (available > firstPart) {
        reads.push({
          op: { op: "readMemory", gpa: dataGpa, length: available - firstPart },
          at: 0,
        });
      }
      if (reads.length > 0) {
        const got = await this.#client.batch(reads.map((r) => r.op));
        reads.forEach((r, i) => readDataOf(got, i).copy(this.#shadow, r.at));
        if (this.closed) return; // closed while the read was out
      }

      const result = readRing({
        len: this.len,
        rxPtr: rx,
        txPtr: tx,
        ring: this.#shadow,
        maxMessages: room,
      });
      if (result.messages.length > 0) sink.deliver(result.messages);
      if (result.corruption !== null) sink.corrupt(result.corruption);
      if (result.rxPtr === rx) return; // nothing consumable (only a bad tx does that)

      // Publish rx (§4.6 step 5), notify(NULL) to fire waiters (step 6), read the next tx and
      // prefetch from the new rx,
      // all in one multicall: executed in order, so the tx read sees everything sent so far.
      const rxBytes = Buffer.allocUnsafe(4);
      rxBytes.writeUInt32LE(result.rxPtr, 0);
      const after = await this.#client.batch([
        { op: "writeMemory", gpa: this.#run.gpa + RING_RX_PTR_OFFSET, data: rxBytes },
        { op: "notify", ringData: null },
        this.readTxOp(),
        this.#prefetchFrom(result.rxPtr),
      ]);
      const wret = retOf(after, 0, "writeMemory");
      if (wret < 0) throw hypercallError("rx_ptr write", wret, { aport: this.aport });
      this.#rxPtr = result.rxPtr;
      tx = readDataOf(after, 2).readUInt32LE(0);
      ahead = { at: result.rxPtr, data: readDataOf(after, 3) };
    }
  }

  /**
   * Unregisters the ring (argo-spec §3.3) and frees its pages, after any running drain has
   * finished. Idempotent. Resolves with unregister's ret (-ENOENT if the hypervisor already
   * tore the ring down, e.g. because the partner domain died, §5.5).
   */
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
