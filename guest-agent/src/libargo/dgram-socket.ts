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
 * churn with full collections). (Own slices rather than one reused slot: both are correct
 * because a session executes calls in order, but own slices let one WriteMemory carry the whole
 * batch.) The rest — up to `maxBatchesInFlight` batches per socket in flight, each after the
 * one before, stopOnError so per-socket order is kept, a full ring never losing a message
 * (EAGAIN → wait for the VIRQ → retry), the EBUSY backoff — is libargo's `ArgoSender`
 * (argo-sender.ts), which virtio-argo channels share. Batches of different sockets pipeline
 * freely.
 */
import { ARGO_DOMID_ANY, ARGO_PROTO_DGRAM, MAX_ARGO_MESSAGE_SIZE, PAGE_SIZE } from "@hmx/proto/abi";
import type { ArgoAddr, HypercallOp } from "../hypercall/hypercall-client.js";
import {
  ArgoSender,
  channelStats,
  type ChannelStats,
  type SendBatch,
  type SenderHost,
  type SendQueueView,
} from "./argo-sender.js";
import { addrString, ArgoSocketError, hypercallError } from "./errors.js";
import type { PageAllocator, PageRun } from "./page-allocator.js";
import type { RingCorruption, RingMessage } from "./ring-reader.js";
import type { RingSink, RxRing } from "./rx-ring.js";

/** A datagram as the application receives it. */
export interface DgramMessage {
  /** Authenticated source domain (hypervisor-stamped) and the sender's chosen aport. */
  readonly source: ArgoAddr;
  readonly data: Buffer;
  /**
   * On a socket bound with `consumeOnAnswer`: the ring position just past this message. Pass
   * the message as `SendOptions.answers` to consume it with the reply's sendv.
   */
  readonly rxAfter?: number;
}

/** Options of one `sendTo`. */
export interface SendOptions {
  /**
   * The request this datagram answers (a socket bound with `consumeOnAnswer`): the rx store
   * that consumes it, and every message before it, rides after this sendv in its multicall and
   * runs only if the sendv was accepted (rx-ring.ts "Consume on answer").
   */
  readonly answers?: DgramMessage;
}

/**
 * A consumer that takes each message as the ring is drained (`BindOptions.consumer`) rather
 * than through `receive()`, and whose progress is stored in the multicall that publishes the
 * rx_ptr of what it took (rx-ring.ts `RingSink.progressOps`). A message is then either still in
 * the ring and not yet counted, or consumed and counted, whenever the agent dies: nothing waits
 * in process memory between the two.
 */
export interface InlineConsumer {
  /** Takes one datagram; synchronous, so the next rx store covers exactly what it took. */
  take(message: DgramMessage): void;
  /** WriteMemory calls that store the progress so far, recorded as going with `rxPtr`. */
  progressOps(rxPtr: number): readonly HypercallOp[];
}

/** Per-socket counters; plain numbers so that they can be logged as they are. */
export type SocketStats = ChannelStats;

/** Tunables of one socket. */
export interface SocketTuning {
  /** Most messages in one send multicall; default 64. */
  readonly maxBatchMessages: number;
  /**
   * Most payload bytes in one send multicall, and the staging buffer size; default 512 KiB
   * (`DEFAULT_SOCKET_TUNING` in argo-endpoint.ts).
   */
  readonly maxBatchBytes: number;
  /**
   * Send multicalls in flight at once, each after the one before (argo-sender.ts), where the
   * hypervisor honours dependent batches; 1 = one at a time. Rebuilding the next
   * batch while one is out is safe here: each batch writes the staging buffer itself, and the
   * hypervisor runs a domain's batches in order. Absent: 1 (`ArgoEndpoint.bind` defaults to 3).
   */
  readonly maxBatchesInFlight?: number;
  /** Received messages held for the application before the ring is left to fill; default 1024. */
  readonly rxQueueLimit: number;
  /** Takes the messages instead of the receive queue (`InlineConsumer`). */
  readonly consumer?: InlineConsumer;
}

/**
 * What a socket needs from its endpoint. Internal to libargo: `ArgoEndpoint` implements it.
 */
export interface SocketHost extends SenderHost {
  readonly allocator: PageAllocator;
  readonly domid: number;
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
  /** `SendOptions.answers`' rx position, to consume with this send. */
  readonly consumes?: number | undefined;
}

type Waiter = (message: DgramMessage | null) => void;

/** Payloads at least this large are staged by reference, not packed (see the module comment). */
const PACK_BELOW = 4096;

/** A bound datagram socket; create it with `ArgoEndpoint.bind`. */
export class DgramSocket implements AsyncIterable<DgramMessage>, RingSink {
  readonly aport: number;
  /** The ring's partner: a domid, or ARGO_DOMID_ANY for a wildcard ring. */
  readonly partner: number;
  readonly stats: SocketStats = channelStats();
  readonly #host: SocketHost;
  readonly #ring: RxRing;
  readonly #tuning: SocketTuning;

  readonly #sender: ArgoSender<PendingSend>;
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
    this.#sender = new ArgoSender<PendingSend>(
      host,
      {
        build: (queue) => this.#build(queue),
        refused: (p, ret) =>
          hypercallError(`sendv to ${addrString(p.dst)}`, ret, {
            op: "sendv",
            dst: p.dst,
            size: p.data.length,
          }),
        status: (p, code, message) =>
          new ArgoSocketError("EIO", `sendv to ${addrString(p.dst)}: status ${code} ${message}`, {
            op: "sendv",
            dst: p.dst,
            size: p.data.length,
          }),
        closed: (p) =>
          new ArgoSocketError("ESHUTDOWN", "socket closed before the send", { dst: p.dst }),
        broken: (p, err) =>
          new ArgoSocketError("EIO", `send failed: ${String(err)}`, { dst: p.dst }, { cause: err }),
      },
      this.stats,
      { maxInFlight: tuning.maxBatchesInFlight ?? 1 },
    );
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
  sendTo(dst: ArgoAddr, data: Uint8Array, options: SendOptions = {}): Promise<number> {
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
    const consumes = options.answers?.rxAfter;
    return this.#sender.send(consumes === undefined ? { dst, data } : { dst, data, consumes });
  }

  /** Messages queued for sending and not yet accepted by the hypervisor. */
  get pendingSends(): number {
    return this.#sender.pending;
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
      await this.#sender.close();
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
    // An inline consumer never holds messages back: a drain turn's worth at a time.
    if (this.#tuning.consumer !== undefined) return this.#tuning.rxQueueLimit;
    return this.#tuning.rxQueueLimit - (this.#rxQueue.length - this.#rxHead) + this.#waiters.length;
  }

  /** @internal */
  deliver(messages: readonly RingMessage[], ends?: readonly number[]): void {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (m === undefined) continue;
      if (m.messageType !== ARGO_PROTO_DGRAM) {
        this.stats.dropped++;
        continue;
      }
      this.stats.received++;
      this.stats.receivedBytes += m.data.length;
      const rxAfter = ends?.[i];
      const msg: DgramMessage =
        rxAfter === undefined
          ? { source: m.source, data: m.data }
          : { source: m.source, data: m.data, rxAfter };
      if (this.#tuning.consumer !== undefined) {
        this.#tuning.consumer.take(msg);
        continue;
      }
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter(msg);
      else this.#rxQueue.push(msg);
    }
  }

  /** @internal */
  progressOps(rxPtr: number): readonly HypercallOp[] {
    return this.#tuning.consumer?.progressOps(rxPtr) ?? [];
  }

  /** @internal */
  corrupt(corruption: RingCorruption): void {
    this.stats.corruptions++;
    this.#host.onCorruption(this, corruption);
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

  /**
   * The next multicall, `[writeMemory(payloads)..., sendv x n]`: at least one message, then as
   * many as fit the staging buffer (module comment).
   */
  #build(queue: SendQueueView<PendingSend>): SendBatch<PendingSend> | Error {
    const { maxBatchMessages, maxBatchBytes } = this.#tuning;
    let count = 0;
    let bytes = 0;
    for (let i = 0; i < queue.pending && count < maxBatchMessages; i++) {
      const size = queue.at(i)?.data.length ?? 0;
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
      return new ArgoSocketError(
        "ENOMEM",
        "no guest memory to stage the message",
        { size: bytes },
        { cause: err },
      );
    }

    // Staging writes first (small payloads packed, large ones by reference), then the sendvs.
    const ops: HypercallOp[] = [];
    const sends: HypercallOp[] = [];
    const src: ArgoAddr = { aport: this.aport, domainId: ARGO_DOMID_ANY };
    let offset = 0;
    let consumes: number | undefined;
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
      const p = queue.at(k);
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
      consumes = p.consumes ?? consumes;
    }
    flushRun();
    const writes = ops.length;
    for (const op of sends) ops.push(op);
    // The requests these replies answer are consumed after the sendvs, only if all were
    // accepted (SendOptions.answers).
    let answered: Pick<SendBatch<PendingSend>, "trailing" | "settleTrailing"> = {};
    if (consumes !== undefined) {
      const rxAfter = consumes;
      const consume = this.#ring.answerConsumeOps(rxAfter);
      for (const op of consume) ops.push(op);
      answered = {
        trailing: consume.length,
        settleTrailing: (outcomes) => {
          const store = outcomes[0];
          if (store?.op === "writeMemory" && store.ret === 0) this.#ring.answerConsumed(rxAfter);
        },
      };
    }

    return {
      ops,
      count: sends.length,
      ...answered,
      finish: () => {
        if (temporary) this.#host.allocator.free(staging);
      },
      lost: (cause) => (p) =>
        new ArgoSocketError(
          "EIO",
          `send batch failed: ${String(cause)}`,
          { dst: p.dst },
          { cause },
        ),
      checkPrefix: (outcomes) => {
        // The first staging write that failed, if any (stopOnError skipped everything after it).
        const w = outcomes.slice(0, writes).find((o) => o.op !== "writeMemory" || o.ret < 0);
        if (w === undefined && outcomes.length >= writes) return null;
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
        return () => err;
      },
    };
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
