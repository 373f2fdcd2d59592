// SPDX-License-Identifier: Apache-2.0
/**
 * Datagram sockets in the spirit of the OpenXT Linux argo driver (argo-spec §7.1): one socket
 * owns one receive ring keyed (aport, partner); it sends with message type `ARGO_PROTO_DGRAM`
 * and drops received messages of any other type; the source of each received message is the
 * one the hypervisor stamped (only the domid is authenticated, §3.4 step 3).
 *
 * Sending. A sendv's payload must already be in the sender's guest memory, so each message is
 * staged by a WriteMemory and sent by a sendv whose iov points at it. Messages queued on a
 * socket go out in batches (multicalls) of at most `maxBatchMessages` messages or
 * `maxBatchBytes` bytes: the payloads are staged back to back in the socket's staging buffer,
 * each message its own slice, then one sendv per message. Small payloads are packed into one
 * WriteMemory (one call instead of many); a payload of `PACK_BELOW` bytes or more gets a
 * WriteMemory of its own that carries the caller's buffer by reference, because packing it
 * would copy it into a fresh large Buffer only for the encoder to copy it again (at 64 KiB
 * that extra allocation was a quarter of the sender's Buffer churn, and V8 pays for Buffer
 * churn with full collections). One batch per socket
 * is in flight at a time and the batch runs with `stopOnError`, so when sendv k fails with
 * EAGAIN, k+1.. were not executed and stay queued behind k: per-socket order is kept. (Own
 * slices rather than one reused slot: both are correct because a session executes calls in
 * order, but own slices let one WriteMemory carry the whole batch.) Batches of different
 * sockets pipeline freely.
 *
 * A full ring never loses a message (the Linux driver's `pending_xmit` path, §7.1 "Flow
 * control", and §5.4): on -EAGAIN the hypervisor has queued a space waiter for this domain on
 * the destination ring; it fires VIRQ_ARGO when the receiver notifies after consuming. The
 * socket then blocks until the next VIRQ and retries the sendv itself (rather than Linux's
 * notify-with-entries round trip first: a retry that finds the ring still full simply re-arms
 * the waiter, so one round trip is saved in the common case). To close the race where the VIRQ
 * overtakes the batch's reply, the endpoint counts VIRQs and a sender retries at once if one
 * arrived since its batch went out. -EBUSY (32 waiters already queued, so none was queued for
 * us) is retried on a backing-off timer, and a slow periodic retry backs up any wake-up lost
 * to a ring teardown (§5.4: unregister drops waiters silently).
 */
import {
  ARGO_DOMID_ANY,
  ARGO_PROTO_DGRAM,
  Errno,
  MAX_ARGO_MESSAGE_SIZE,
  PAGE_SIZE,
} from "@hmx/proto/abi";
import type {
  ArgoAddr,
  HypercallClient,
  HypercallOp,
  HypercallOutcome,
} from "../hypercall/hypercall-client.js";
import { addrString, ArgoSocketError, hypercallError } from "./errors.js";
import { skippedAfterFailure } from "./outcomes.js";
import type { PageAllocator, PageRun } from "./page-allocator.js";
import type { RingCorruption, RingMessage } from "./ring-reader.js";
import type { RingSink, RxRing } from "./rx-ring.js";

/** A datagram as the application receives it. */
export interface DgramMessage {
  /** Authenticated source domain (hypervisor-stamped) and the sender's chosen aport. */
  readonly source: ArgoAddr;
  readonly data: Buffer;
}

/** Per-socket counters; plain numbers so that they can be logged as they are. */
export interface SocketStats {
  sent: number;
  sentBytes: number;
  received: number;
  receivedBytes: number;
  /** sendv calls that came back -EAGAIN (each one is retried, not lost). */
  eagains: number;
  /** sendv calls that came back -EBUSY (no waiter queued; retried on a timer). */
  ebusys: number;
  /** Multicalls issued by the send path. */
  batches: number;
  /** Received messages of another message type, dropped as Linux does. */
  dropped: number;
  /** Times the ring was found corrupt and recovered (rx = tx). */
  corruptions: number;
  /** Sends that failed for good. */
  sendErrors: number;
}

/** Tunables of one socket. */
export interface SocketTuning {
  /** Most messages in one send multicall; default 64. */
  readonly maxBatchMessages: number;
  /** Most payload bytes in one send multicall, and the staging buffer size; default 256 KiB. */
  readonly maxBatchBytes: number;
  /** Received messages held for the application before the ring is left to fill; default 1024. */
  readonly rxQueueLimit: number;
}

/**
 * What a socket needs from its endpoint. Internal to libargo: `ArgoEndpoint` implements it.
 */
export interface SocketHost {
  readonly client: HypercallClient;
  readonly allocator: PageAllocator;
  readonly domid: number;
  /** VIRQs seen so far (a send retries at once if one arrived while its batch was out). */
  virqCount(): number;
  /** Parks a sender that got -EAGAIN until the next VIRQ. */
  park(socket: DgramSocket): void;
  unpark(socket: DgramSocket): void;
  /** The application took messages: drain rings that were left full. */
  requestDrain(): void;
  /** The socket is closed; forget it. */
  released(socket: DgramSocket): void;
  onCorruption(socket: DgramSocket, corruption: RingCorruption): void;
  /** Leave rings registered on close, for an agent that will resume them (agent-state.ts). */
  readonly keepRingsOnClose: boolean;
}

interface PendingSend {
  readonly dst: ArgoAddr;
  readonly data: Uint8Array;
  readonly resolve: (bytes: number) => void;
  readonly reject: (err: Error) => void;
}

type Waiter = (message: DgramMessage | null) => void;

/** Retry delays for -EBUSY, and the backstop retry of a parked sender. */
const EBUSY_RETRY_MIN_MS = 2;
const EBUSY_RETRY_MAX_MS = 200;
const PARKED_BACKSTOP_MS = 1000;
/** Payloads at least this large are staged by reference, not packed (see the module comment). */
const PACK_BELOW = 4096;

/** A bound datagram socket; create it with `ArgoEndpoint.bind`. */
export class DgramSocket implements AsyncIterable<DgramMessage>, RingSink {
  readonly aport: number;
  /** The ring's partner: a domid, or ARGO_DOMID_ANY for a wildcard ring. */
  readonly partner: number;
  readonly stats: SocketStats = {
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
  readonly #host: SocketHost;
  readonly #ring: RxRing;
  readonly #tuning: SocketTuning;

  // Send side: a FIFO (array + head index, so that shifting is O(1)).
  #txQueue: PendingSend[] = [];
  #txHead = 0;
  #pump: Promise<void> | null = null;
  #parked = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #ebusyDelayMs = EBUSY_RETRY_MIN_MS;
  #staging: PageRun | null = null;

  // Receive side.
  #rxQueue: DgramMessage[] = [];
  #rxHead = 0;
  readonly #waiters: Waiter[] = [];

  #closing: Promise<void> | null = null;
  /** Receiving paused: drains leave messages in the ring (see `quiesce`). */
  #paused = false;

  /** @internal Use `ArgoEndpoint.bind`. */
  constructor(host: SocketHost, ring: RxRing, tuning: SocketTuning) {
    this.#host = host;
    this.#ring = ring;
    this.#tuning = tuning;
    this.aport = ring.aport;
    this.partner = ring.partnerId;
  }

  /** This socket's address: own domid and aport. */
  get address(): ArgoAddr {
    return { aport: this.aport, domainId: this.#host.domid };
  }

  /** Receive ring length in bytes. */
  get ringLen(): number {
    return this.#ring.len;
  }

  get closed(): boolean {
    return this.#closing !== null;
  }

  /** @internal The ring this socket reads. */
  get ring(): RxRing {
    return this.#ring;
  }

  /**
   * Sends one datagram from this socket's aport to `dst`. Resolves with the payload bytes once
   * the hypervisor has put the message in the destination ring; waits (without losing or
   * reordering anything) while that ring is full. Rejects with an `ArgoSocketError` whose
   * `code` is the errno: ECONNREFUSED (no ring), ESRCH (no domain), EMSGSIZE (can never fit),
   * EPERM / EACCES (MAC), ESHUTDOWN (socket closed first), EIO (hypercall transport failed).
   * `data` is not copied at once: do not modify it until the returned promise settles.
   */
  sendTo(dst: ArgoAddr, data: Uint8Array): Promise<number> {
    if (this.#closing !== null) {
      return Promise.reject(new ArgoSocketError("ESHUTDOWN", "send on a closed socket", { dst }));
    }
    if (!isAddr(dst)) {
      return Promise.reject(
        new ArgoSocketError("EINVAL", `bad destination ${JSON.stringify(dst)}`, {}),
      );
    }
    if (data.length > MAX_ARGO_MESSAGE_SIZE) {
      // The hypervisor would say the same (§3.4 step 8); no need to stage 16 MiB to learn it.
      return Promise.reject(
        new ArgoSocketError(
          "EMSGSIZE",
          `message of ${data.length} bytes exceeds the Argo maximum ${MAX_ARGO_MESSAGE_SIZE}`,
          { dst, size: data.length },
        ),
      );
    }
    return new Promise<number>((resolve, reject) => {
      this.#txQueue.push({ dst, data, resolve, reject });
      this.#kickPump();
    });
  }

  /** Messages queued for sending and not yet accepted by the hypervisor. */
  get pendingSends(): number {
    return this.#txQueue.length - this.#txHead;
  }

  /**
   * The next received datagram, or null once the socket is closed. Rejects with the signal's
   * reason if `signal` aborts first.
   */
  receive(options: { readonly signal?: AbortSignal } = {}): Promise<DgramMessage | null> {
    const { signal } = options;
    if (this.#rxHead < this.#rxQueue.length) return Promise.resolve(this.#take());
    if (this.#closing !== null) return Promise.resolve(null);
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    return new Promise<DgramMessage | null>((resolve, reject) => {
      const waiter: Waiter = (m) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(m);
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * Iterates over received datagrams until the socket closes. Leaving the loop early does not
   * close the socket.
   */
  [Symbol.asyncIterator](): AsyncIterator<DgramMessage> {
    return {
      next: async (): Promise<IteratorResult<DgramMessage>> => {
        const m = await this.receive();
        return m === null ? { done: true, value: undefined } : { done: false, value: m };
      },
    };
  }

  /**
   * Closes the socket: queued sends not yet in flight reject with ESHUTDOWN, the batch in
   * flight completes, receivers get end-of-stream, the ring is unregistered and the pages go
   * back to the allocator. Idempotent.
   */
  /**
   * Stops taking messages out of the ring — further drains leave them there, where they survive
   * an agent restart — waits for a drain in progress, and returns the messages already taken but
   * not yet received, so the caller can account for them before it closes the socket.
   */
  async quiesce(): Promise<DgramMessage[]> {
    this.#paused = true;
    await this.#ring.idle();
    const queued = this.#rxQueue.slice(this.#rxHead);
    this.#rxQueue = [];
    this.#rxHead = 0;
    return queued;
  }

  /** The ring record a restarted agent needs to resume this socket's ring (agent-state.ts). */
  get ringRecord(): { aport: number; partnerId: number; len: number; gfn: number } {
    return { aport: this.aport, partnerId: this.partner, len: this.#ring.len, gfn: this.#ring.gfn };
  }

  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closing = (async () => {
      this.#unpark();
      this.#kickPump(); // a parked or idle pump runs once more to reject what is queued
      await this.#pump;
      for (const w of this.#waiters.splice(0)) w(null);
      try {
        // An agent that will resume keeps its rings registered: senders then wait on a full
        // ring instead of failing while it restarts, and what is in the ring stays there.
        if (this.#host.keepRingsOnClose) await this.#ring.detach();
        else await this.#ring.close();
      } finally {
        if (this.#staging !== null) this.#host.allocator.free(this.#staging);
        this.#staging = null;
        this.#host.released(this);
      }
    })();
    return this.#closing;
  }

  // ---- RingSink (called by the ring's drain) ----

  /** @internal */
  room(): number {
    if (this.#closing !== null || this.#paused) return 0;
    return this.#tuning.rxQueueLimit - (this.#rxQueue.length - this.#rxHead) + this.#waiters.length;
  }

  /** @internal */
  deliver(messages: readonly RingMessage[]): void {
    for (const m of messages) {
      if (m.messageType !== ARGO_PROTO_DGRAM) {
        this.stats.dropped++;
        continue;
      }
      this.stats.received++;
      this.stats.receivedBytes += m.data.length;
      const msg: DgramMessage = { source: m.source, data: m.data };
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter(msg);
      else this.#rxQueue.push(msg);
    }
  }

  /** @internal */
  corrupt(corruption: RingCorruption): void {
    this.stats.corruptions++;
    this.#host.onCorruption(this, corruption);
  }

  /** @internal Called by the endpoint on every VIRQ while this socket is parked. */
  wake(): void {
    if (!this.#parked) return;
    this.#unpark();
    this.#kickPump();
  }

  #take(): DgramMessage | null {
    const wasFull = this.#rxQueue.length - this.#rxHead >= this.#tuning.rxQueueLimit;
    const m = this.#rxQueue[this.#rxHead];
    if (m === undefined) return null;
    this.#rxQueue[this.#rxHead] = undefined as unknown as DgramMessage; // let the GC have it
    this.#rxHead++;
    if (this.#rxHead > 1024 && this.#rxHead * 2 > this.#rxQueue.length) {
      this.#rxQueue = this.#rxQueue.slice(this.#rxHead);
      this.#rxHead = 0;
    }
    // The drain stopped at the limit and left messages in the ring: now there is room.
    if (wasFull) this.#host.requestDrain();
    return m;
  }

  #unpark(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#parked) {
      this.#parked = false;
      this.#host.unpark(this);
    }
  }

  #kickPump(): void {
    if (this.#pump !== null || this.#parked) return;
    if (this.#txHead === this.#txQueue.length) return;
    this.#pump = this.#runPump().finally(() => {
      this.#pump = null;
      // Messages queued while the last batch's outcome was being handled.
      if (!this.#parked && this.#txHead < this.#txQueue.length) this.#kickPump();
    });
  }

  #shiftSend(): PendingSend | undefined {
    const p = this.#txQueue[this.#txHead];
    if (p === undefined) return undefined;
    this.#txQueue[this.#txHead] = undefined as unknown as PendingSend;
    this.#txHead++;
    if (this.#txHead === this.#txQueue.length) {
      this.#txQueue = [];
      this.#txHead = 0;
    } else if (this.#txHead > 1024 && this.#txHead * 2 > this.#txQueue.length) {
      this.#txQueue = this.#txQueue.slice(this.#txHead);
      this.#txHead = 0;
    }
    return p;
  }

  /** Sends batches until the queue is empty or the socket parks; one batch at a time. */
  async #runPump(): Promise<void> {
    while (this.#txHead < this.#txQueue.length && !this.#parked) {
      if (this.#closing !== null) {
        for (let p = this.#shiftSend(); p !== undefined; p = this.#shiftSend()) {
          p.reject(
            new ArgoSocketError("ESHUTDOWN", "socket closed before the send", { dst: p.dst }),
          );
        }
        return;
      }
      try {
        await this.#sendBatch();
      } catch (err) {
        // Defensive: whatever went wrong, fail the head message so that the queue progresses.
        const p = this.#shiftSend();
        p?.reject(
          new ArgoSocketError("EIO", `send failed: ${String(err)}`, { dst: p.dst }, { cause: err }),
        );
        this.stats.sendErrors++;
      }
    }
  }

  /** One multicall: [writeMemory(all payloads), sendv x n], stopOnError. */
  async #sendBatch(): Promise<void> {
    const { maxBatchMessages, maxBatchBytes } = this.#tuning;
    // Pick the messages: at least one, then as many as fit the staging buffer.
    let count = 0;
    let bytes = 0;
    for (let i = this.#txHead; i < this.#txQueue.length && count < maxBatchMessages; i++) {
      const size = this.#txQueue[i]?.data.length ?? 0;
      if (count > 0 && bytes + size > maxBatchBytes) break;
      bytes += size;
      count++;
    }
    let staging: PageRun;
    let temporary = false;
    try {
      if (bytes > maxBatchBytes) {
        // One message bigger than the staging buffer: give it pages of its own, briefly.
        staging = this.#host.allocator.allocate(Math.ceil(bytes / PAGE_SIZE));
        temporary = true;
      } else {
        this.#staging ??= this.#host.allocator.allocate(Math.ceil(maxBatchBytes / PAGE_SIZE));
        staging = this.#staging;
      }
    } catch (err) {
      const p = this.#shiftSend();
      p?.reject(
        new ArgoSocketError(
          "ENOMEM",
          "no guest memory to stage the message",
          { size: bytes },
          { cause: err },
        ),
      );
      this.stats.sendErrors++;
      return;
    }

    // Staging writes first (small payloads packed, large ones by reference), then the sendvs.
    const ops: HypercallOp[] = [];
    const sends: HypercallOp[] = [];
    const src: ArgoAddr = { aport: this.aport, domainId: ARGO_DOMID_ANY };
    let offset = 0;
    let runStart = 0;
    let run: Uint8Array[] = [];
    let runBytes = 0;
    const flushRun = (): void => {
      if (run.length === 0) return;
      const packed = Buffer.allocUnsafe(runBytes);
      let at = 0;
      for (const d of run) {
        packed.set(d, at);
        at += d.length;
      }
      ops.push({ op: "writeMemory", gpa: staging.gpa + runStart, data: packed });
      run = [];
      runBytes = 0;
    };
    for (let k = 0; k < count; k++) {
      const p = this.#txQueue[this.#txHead + k];
      if (p === undefined) break;
      if (p.data.length >= PACK_BELOW) {
        flushRun();
        ops.push({ op: "writeMemory", gpa: staging.gpa + offset, data: p.data });
      } else {
        if (run.length === 0) runStart = offset;
        run.push(p.data);
        runBytes += p.data.length;
      }
      sends.push({
        op: "sendv",
        src,
        dst: p.dst,
        // niov 0 would do for an empty message, but one empty iov is just as legal (§3.4).
        iovs: [{ gpa: staging.gpa + offset, len: p.data.length }],
        messageType: ARGO_PROTO_DGRAM,
      });
      offset += p.data.length;
    }
    flushRun();
    const writes = ops.length;
    for (const op of sends) ops.push(op);

    const virqsBefore = this.#host.virqCount();
    let outcomes: HypercallOutcome[];
    this.stats.batches++;
    try {
      outcomes = await this.#host.client.batch(ops, { stopOnError: true });
    } catch (err) {
      // The transport failed (session closed, quota): nothing says which calls ran, and
      // resending could duplicate. Fail the batch's messages and let the caller decide.
      for (let k = 0; k < count; k++) {
        const p = this.#shiftSend();
        p?.reject(
          new ArgoSocketError(
            "EIO",
            `send batch failed: ${String(err)}`,
            { dst: p.dst },
            { cause: err },
          ),
        );
        this.stats.sendErrors++;
      }
      return;
    } finally {
      if (temporary) this.#host.allocator.free(staging);
    }

    // The first staging write that failed, if any (stopOnError skipped everything after it).
    const w = outcomes.slice(0, writes).find((o) => o.op !== "writeMemory" || o.ret < 0);
    if (w !== undefined || outcomes.length < writes) {
      // Our own staging pages refused the write (a libargo bug, not the peer's doing), or the
      // hypervisor refused the call itself (a quota status): none of the sendvs ran.
      const err =
        w?.op === "writeMemory"
          ? hypercallError("staging write", w.ret, { op: "writeMemory", size: bytes })
          : new ArgoSocketError(
              "EIO",
              `staging write: ${w?.op === "status" ? `status ${w.code} ${w.message}` : "no outcome"}`,
              { size: bytes },
            );
      for (let k = 0; k < count; k++) {
        const p = this.#shiftSend();
        p?.reject(err);
        this.stats.sendErrors++;
      }
      return;
    }
    for (let k = 0; k < count; k++) {
      const o = outcomes[writes + k];
      const p = this.#txQueue[this.#txHead];
      if (o === undefined || p === undefined) return;
      if (o.op === "status") {
        if (skippedAfterFailure(o.code)) return; // skipped after an earlier failure: stays queued
        this.#shiftSend();
        p.reject(
          new ArgoSocketError(
            "EIO",
            `sendv to ${addrString(p.dst)}: status ${o.code} ${o.message}`,
            { op: "sendv", dst: p.dst, size: p.data.length },
          ),
        );
        this.stats.sendErrors++;
        continue;
      }
      const ret = o.op === "sendv" ? o.ret : -Errno.EINVAL;
      if (ret >= 0) {
        this.#shiftSend();
        this.stats.sent++;
        this.stats.sentBytes += ret;
        this.#ebusyDelayMs = EBUSY_RETRY_MIN_MS;
        p.resolve(ret);
        continue;
      }
      if (ret === -Errno.EAGAIN) {
        this.stats.eagains++;
        // A VIRQ since the batch went out may be the wake-up for the waiter just queued.
        if (this.#host.virqCount() === virqsBefore) this.#park(PARKED_BACKSTOP_MS);
        return;
      }
      if (ret === -Errno.EBUSY) {
        this.stats.ebusys++;
        this.#park(this.#ebusyDelayMs);
        this.#ebusyDelayMs = Math.min(this.#ebusyDelayMs * 2, EBUSY_RETRY_MAX_MS);
        return;
      }
      this.#shiftSend();
      this.stats.sendErrors++;
      p.reject(
        hypercallError(`sendv to ${addrString(p.dst)}`, ret, {
          op: "sendv",
          dst: p.dst,
          size: p.data.length,
        }),
      );
    }
  }

  /** Waits for a VIRQ (or `timeoutMs`) before the next send attempt. */
  #park(timeoutMs: number): void {
    // A closing socket does not wait: the pump loop goes on to reject what is queued.
    if (this.#closing !== null) return;
    this.#parked = true;
    this.#host.park(this);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.wake();
    }, timeoutMs);
  }
}

function isAddr(a: ArgoAddr): boolean {
  return (
    Number.isInteger(a.aport) &&
    a.aport >= 0 &&
    a.aport <= 0xffffffff &&
    Number.isInteger(a.domainId) &&
    a.domainId >= 0 &&
    a.domainId <= 0xffff
  );
}
