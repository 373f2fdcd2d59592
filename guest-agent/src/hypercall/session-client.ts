// SPDX-License-Identifier: Apache-2.0
/**
 * `SessionClient`: the guest agent's hypercall client over the pipelined, bidirectional
 * `hmx.argo.v1.Hypervisor/Session` stream, the fast path of every guest.
 *
 * It numbers hypercalls with the domain's request ids, sends each `batch()` as one
 * `HypercallBatch` frame (a Xen multicall), keeps many batches in flight (at most the server's
 * `resumeWindow` calls), and matches results back by request id. A link can drop at any moment
 * (DESIGN.md §4 "Resilient"): the client then reconnects with jittered exponential backoff,
 * re-opens with its `ackThrough`, and resends every unanswered call with its ORIGINAL request id,
 * in id order, each original batch in its own frame with its stopOnError flag. The server
 * answers ids it already executed from its resume log, so a hypercall is applied at most once
 * and every caller gets exactly one outcome. A hypervisor that is gone for a while (connection
 * refused while it restarts) is the same outage, only longer: the client keeps retrying and
 * resumes on the new process, which with `--state-dir` knows the domain and its resume log
 * (docs/state.md). Only `close()`, a rejected credential (UNAUTHENTICATED: after the session
 * had been up, a `DomainLostError`) and `reconnectTimeoutMs` end the reconnect loop.
 */
import * as grpc from "@grpc/grpc-js";
import {
  GRPC_MESSAGE_LIMITS,
  SESSION_FLOW_CONTROL_WINDOW,
  VIRQ_RING_BYTES_MAX,
  bearerMetadata,
  loadHypervisorProto,
} from "@hmx/proto";
import { installPreframedWrites } from "@hmx/proto/grpc-preframed";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { RequestWindow } from "./request-window.js";
import { encodeSessionFrame, sessionReplyDecoder } from "./session-frame-codec.js";
import {
  DomainLostError,
  HypercallStatusError,
  type ArgoAddr,
  type BatchChain,
  type BatchOptions,
  type DomainInfo,
  type HypercallClient,
  type HypercallOp,
  type HypercallOutcome,
  type Iov,
  type NotifyEntry,
  type NotifyResultEntry,
  type VirqRing,
} from "./hypercall-client.js";
import {
  batchFrame,
  decodeOutcome,
  decodeReady,
  encodeCall,
  frameResults,
  isFailure,
  isVirqEvent,
  openFrame,
  virqRings,
  resultRequestId,
  type EncodedCall,
  type ReadyInfo,
  type SessionReply,
  type SessionStream,
} from "./wire-codec.js";

/** The subset of a pino logger the client uses; a pino `Logger` fits as is. */
export interface SessionLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of `SessionClient.connect`. */
export interface SessionClientOptions {
  /** The hypervisor's guest-facing listener, `host:port`. */
  readonly address: string;
  /** The domain credential, sent as `authorization: Bearer <credential>`; never logged. */
  readonly credential: string;
  readonly logger?: SessionLogger;
  /** HTTP/2 keepalive ping interval (default 10 000 ms): how a silent partition is noticed. */
  readonly keepaliveMs?: number;
  /** How long a keepalive ping may stay unanswered before the link counts as dead (5 000 ms). */
  readonly keepaliveTimeoutMs?: number;
  /** Reconnect backoff; the default is 50 ms doubling to 2 s, with jitter, never giving up. */
  readonly backoff?: BackoffOptions;
  /**
   * How long the FIRST connect keeps retrying a server that is unreachable (default 15 000 ms;
   * `Infinity`: until it comes).
   */
  readonly connectTimeoutMs?: number;
  /**
   * How long one outage of an established session may last before the client gives up with
   * UNAVAILABLE (default `Infinity`: a restarting hypervisor may take its time). Also bounded by
   * `backoff.maxAttempts`.
   */
  readonly reconnectTimeoutMs?: number;
  /** How long an opened stream may take to answer `ready` before it is retried (10 000 ms). */
  readonly readyTimeoutMs?: number;
  /**
   * Ring bytes each VIRQ event may carry (hypervisor.proto `SessionOpen.virq_ring_bytes`), so
   * that a small message arrives with its VIRQ instead of a read round trip after it; default
   * DEFAULT_VIRQ_RING_BYTES, 0 = none. At most VIRQ_RING_BYTES_MAX (the hypervisor refuses
   * more).
   */
  readonly virqRingBytes?: number;
}

/**
 * Ring bytes a VIRQ event may carry by default: the hypervisor's limit, so that a batch of large
 * messages (four of 64 KiB, a 1 MiB virtio-blk request) reaches the guest in its event and is
 * never read back. Each ring byte crosses the Session once however large the budget
 * (push delivery), and a small message makes a small event; the budget only bounds one event.
 * At 64 KiB messages it cut the hypervisor's CPU per message by a fifth and the one-way latency
 * by a third (docs/performance.md "The receiver's ring and the VIRQ budget").
 */
export const DEFAULT_VIRQ_RING_BYTES = VIRQ_RING_BYTES_MAX;

/** Where the client is in its life; `closed` and `failed` are final. */
export type SessionState = "connecting" | "ready" | "backoff" | "closed" | "failed";

/** Used when a `ready` frame leaves resumeWindow / maxBatch at 0 (no limit reported). */
const DEFAULT_RESUME_WINDOW = 1024;
const DEFAULT_MAX_BATCH = 256;
/** How long `close()` waits for the server to end the stream after the client half-closes. */
const CLOSE_GRACE_MS = 500;

/**
 * One `batch()` call in flight: its ops, their encoded calls (kept for resending), and the
 * outcomes received so far. Results fill `outcomes` by `requestId - firstId`; `prefix` is the
 * number of leading outcomes all present, which is what the client may acknowledge and what a
 * resend may skip.
 */
class PendingBatch {
  firstId = 0;
  received = 0;
  prefix = 0;
  done = false;
  /** Written on some stream already: writing it again is a resend. */
  sentOnce = false;
  /** stopOnError only: a result ended the batch, so the calls after it will not run. */
  failed = false;
  /**
   * The batch before it on its chain (`BatchOptions.chain`), until this one is admitted and
   * `after` is set from it.
   */
  dependsOn: PendingBatch | undefined = undefined;
  /** HypercallBatch.after: the request id this batch runs after (0: none). */
  after = 0;
  readonly count: number;
  readonly outcomes: (HypercallOutcome | undefined)[];

  constructor(
    readonly ops: readonly HypercallOp[],
    readonly calls: EncodedCall[],
    readonly stopOnError: boolean,
    readonly resolve: (outcomes: HypercallOutcome[]) => void,
    readonly reject: (err: Error) => void,
  ) {
    this.count = calls.length;
    this.outcomes = new Array<HypercallOutcome | undefined>(this.count);
  }
}

/** One opened Session stream. */
class StreamContext {
  ready = false;
  writable = true;
  /** What the hypervisor granted of `virqRingBytes` in its `ready` (0: events carry no rings). */
  virqRingBytes = 0;
  constructor(readonly call: SessionStream) {}
}

const noop = (): void => undefined;

/**
 * Stream endings that reconnecting cannot cure: the credential is bad or revoked, the server
 * does not speak this protocol, or it rejected our frames as malformed or over its limits (a
 * client bug that would otherwise turn into an endless reconnect loop).
 */
const FATAL_STREAM_CODES: ReadonlySet<number> = new Set([
  grpc.status.UNAUTHENTICATED,
  grpc.status.UNIMPLEMENTED,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.PERMISSION_DENIED,
]);

/** The hypercall client of a guest agent over the Session stream. */
export class SessionClient implements HypercallClient {
  readonly #client: grpc.Client;
  /** The Session method's path and its reply deserializer (session-frame-codec.ts). */
  readonly #sessionPath: string;
  readonly #decodeReply: (bytes: Buffer) => SessionReply;
  readonly #address: string;
  readonly #credential: string;
  readonly #logger: SessionLogger | undefined;
  readonly #backoff: Backoff;
  readonly #readyTimeoutMs: number;
  readonly #connectDeadline: number;
  readonly #reconnectTimeoutMs: number;
  /** When the current outage of an established session began (undefined: none). */
  #outageSince: number | undefined;

  #state: SessionState = "connecting";
  #terminalError: Error | undefined;
  #stream: StreamContext | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #readyTimer: NodeJS.Timeout | undefined;
  #everReady = false;
  #connectWaiter: { resolve: (c: SessionClient) => void; reject: (e: Error) => void } | undefined;

  #domid = 0;
  #maxBatch = DEFAULT_MAX_BATCH;
  #dependentBatches = false;
  /** The last batch sent on each chain (`BatchOptions.chain`). */
  readonly #chains = new WeakMap<BatchChain, PendingBatch>();
  /** Request ids, what is in flight, what waits for room (request-window.ts). */
  readonly #window = new RequestWindow<PendingBatch>(DEFAULT_RESUME_WINDOW, stampRequestIds);

  #reconnects = 0;
  #callsSent = 0;
  #callsResent = 0;

  readonly #virqListeners = new Set<(rings?: readonly VirqRing[]) => void>();
  readonly #virqRingBytes: number;
  readonly #fatalListeners = new Set<(err: Error) => void>();
  #resolveClosed: () => void = noop;
  #rejectClosed: (err: Error) => void = noop;

  /**
   * Settles when the client is finished: resolves after `close()`, rejects with the fatal error
   * (e.g. `HypercallStatusError` 16 UNAUTHENTICATED) when the session can never resume.
   */
  readonly closed: Promise<void>;

  private constructor(options: SessionClientOptions) {
    this.#address = options.address;
    this.#credential = options.credential;
    this.#logger = options.logger;
    this.#backoff = new Backoff(options.backoff);
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
    this.#virqRingBytes = options.virqRingBytes ?? DEFAULT_VIRQ_RING_BYTES;
    this.#connectDeadline = Date.now() + (options.connectTimeoutMs ?? 15_000);
    this.#reconnectTimeoutMs = options.reconnectTimeoutMs ?? Number.POSITIVE_INFINITY;
    this.closed = new Promise<void>((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // Observable through `closed` or `onFatal`, but never an unhandled rejection.
    this.closed.catch(noop);
    const { Hypervisor } = loadHypervisorProto().hmx.argo.v1;
    // Hand-coded frames are sent where they were written (grpc-preframed.ts).
    installPreframedWrites();
    // The Session's frames go through the hand codec; the method is proto-loader's.
    const session = Hypervisor.service.Session;
    this.#sessionPath = session.path;
    this.#decodeReply = sessionReplyDecoder(session.responseDeserialize);
    this.#client = new Hypervisor(options.address, grpc.credentials.createInsecure(), {
      ...GRPC_MESSAGE_LIMITS,
      // grpc-js sends no keepalive pings by default, so a silent partition would never end the
      // stream (grpc-node #2578); pings also run while idle because a guest may wait for VIRQs.
      "grpc.keepalive_time_ms": options.keepaliveMs ?? 10_000,
      "grpc.keepalive_timeout_ms": options.keepaliveTimeoutMs ?? 5_000,
      "grpc.keepalive_permit_without_calls": 1,
      // Lets the hypervisor send results and VIRQ events past Node's 64 KiB default window
      // without waiting for this side's WINDOW_UPDATE (docs/performance.md).
      "grpc-node.flow_control_window": SESSION_FLOW_CONTROL_WINDOW,
      // The channel's own reconnect backoff defaults to 1 s .. 120 s; a guest resumes faster.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 2_000,
    });
  }

  /**
   * Opens a session: resolves once the server answered `ready`. A server that is not reachable
   * yet is retried with the backoff until `connectTimeoutMs`; UNAUTHENTICATED rejects at once.
   */
  static connect(options: SessionClientOptions): Promise<SessionClient> {
    const client = new SessionClient(options);
    return new Promise<SessionClient>((resolve, reject) => {
      client.#connectWaiter = { resolve, reject };
      client.#openStream();
    });
  }

  /** The caller's domid, from the `ready` frame. */
  get domid(): number {
    return this.#domid;
  }

  /** Current lifecycle state. */
  get state(): SessionState {
    return this.#state;
  }

  /** Successful reconnects since `connect`. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Calls written for the first time (resends are counted in `callsResent`). */
  get callsSent(): number {
    return this.#callsSent;
  }

  /** Calls written again on a new stream after a link drop. */
  get callsResent(): number {
    return this.#callsResent;
  }

  /** Calls with a request id whose batch has not completed. */
  get inFlight(): number {
    return this.#window.inFlight;
  }

  /** Batches waiting for room in the window. */
  get queued(): number {
    return this.#window.queued;
  }

  /** The server's limit on unacknowledged results, from the last `ready`. */
  get resumeWindow(): number {
    return this.#window.limit;
  }

  /** The server's limit on calls per batch, from the last `ready`. */
  get maxBatch(): number {
    return this.#maxBatch;
  }

  /** The hypervisor honours `BatchOptions.chain` (`ready.dependent_batches`, last `ready`). */
  get dependentBatches(): boolean {
    return this.#dependentBatches;
  }

  /** The request id the next admitted call will get. */
  get nextRequestId(): number {
    return this.#window.nextId;
  }

  onVirq(listener: (rings?: readonly VirqRing[]) => void): () => void {
    this.#virqListeners.add(listener);
    return () => this.#virqListeners.delete(listener);
  }

  /** Called once if the session fails for good (e.g. UNAUTHENTICATED); returns unsubscribe. */
  onFatal(listener: (err: Error) => void): () => void {
    this.#fatalListeners.add(listener);
    return () => this.#fatalListeners.delete(listener);
  }

  /**
   * Queues one batch. A batch longer than `min(maxBatch, resumeWindow)` is split into several
   * batches when it may be (no stopOnError: the calls are independent anyway); with stopOnError
   * a split would lose the multicall semantics, so it is rejected with a `RangeError`.
   * Buffers passed in (writeMemory data) are sent by reference and may be sent again after a
   * reconnect: do not modify them until the promise settles. A batch on a `chain` is never
   * split either (its parts would depend on each other).
   */
  batch(ops: readonly HypercallOp[], options?: BatchOptions): Promise<HypercallOutcome[]> {
    if (this.#terminalError !== undefined) return Promise.reject(this.#terminalError);
    const n = ops.length;
    if (n === 0) return Promise.resolve([]);
    const stopOnError = options?.stopOnError === true;
    const limit = Math.min(this.#maxBatch, this.#window.limit);
    const chain = options?.chain;
    if (n > limit) {
      if (stopOnError || chain !== undefined) {
        return Promise.reject(
          new RangeError(`a stopOnError or chained batch holds at most ${limit} calls, got ${n}`),
        );
      }
      return this.#splitBatch(ops, limit);
    }
    const calls = new Array<EncodedCall>(n);
    try {
      let i = 0;
      for (const op of ops) calls[i++] = encodeCall(op);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<HypercallOutcome[]>((resolve, reject) => {
      const b = new PendingBatch(ops, calls, stopOnError, resolve, reject);
      if (chain !== undefined) {
        b.dependsOn = this.#chains.get(chain);
        this.#chains.set(chain, b);
      }
      this.#window.enqueue(b);
      this.#admit();
    });
  }

  async #splitBatch(ops: readonly HypercallOp[], limit: number): Promise<HypercallOutcome[]> {
    const parts: Promise<HypercallOutcome[]>[] = [];
    for (let i = 0; i < ops.length; i += limit) parts.push(this.batch(ops.slice(i, i + limit)));
    return (await Promise.all(parts)).flat();
  }

  getDomainInfo(): Promise<DomainInfo> {
    return this.batch([{ op: "getDomainInfo" }]).then(domainInfoOf);
  }

  readMemory(gpa: number, length: number): Promise<{ ret: number; data: Buffer }> {
    return this.batch([{ op: "readMemory", gpa, length }]).then(readResultOf);
  }

  writeMemory(gpa: number, data: Uint8Array): Promise<number> {
    return this.batch([{ op: "writeMemory", gpa, data }]).then(retOf);
  }

  registerRing(args: {
    aport: number;
    partnerId: number;
    len: number;
    gfns: readonly number[];
    flags: number;
  }): Promise<number> {
    const { aport, partnerId, len, gfns, flags } = args;
    return this.batch([{ op: "registerRing", aport, partnerId, len, gfns, flags }]).then(retOf);
  }

  unregisterRing(aport: number, partnerId: number): Promise<number> {
    return this.batch([{ op: "unregisterRing", aport, partnerId }]).then(retOf);
  }

  sendv(src: ArgoAddr, dst: ArgoAddr, iovs: readonly Iov[], messageType: number): Promise<number> {
    return this.batch([{ op: "sendv", src, dst, iovs, messageType }]).then(retOf);
  }

  notify(
    ringData: readonly NotifyEntry[] | null,
  ): Promise<{ ret: number; entries: readonly NotifyResultEntry[] }> {
    return this.batch([{ op: "notify", ringData }]).then(notifyResultOf);
  }

  /**
   * Ends the session: pending and queued calls reject with `HypercallStatusError` 1 CANCELLED,
   * the stream is half-closed (then cancelled if the server does not end it within 500 ms) and
   * the channel is closed. No timer or socket is left behind.
   */
  async close(): Promise<void> {
    if (this.#state === "closed" || this.#state === "failed") return;
    this.#state = "closed";
    this.#terminalError = new HypercallStatusError(
      grpc.status.CANCELLED,
      "hypercall session closed",
    );
    this.#clearTimers();
    this.#rejectAll(this.#terminalError);
    const ctx = this.#stream;
    this.#stream = undefined;
    if (ctx !== undefined) {
      let graceTimer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        ctx.call.once("status", () => {
          resolve();
        });
        graceTimer = setTimeout(resolve, CLOSE_GRACE_MS);
        ctx.call.end();
      });
      clearTimeout(graceTimer);
      ctx.call.cancel();
    }
    this.#client.close();
    this.#connectWaiter?.reject(this.#terminalError);
    this.#connectWaiter = undefined;
    this.#resolveClosed();
  }

  // ---- stream lifecycle ----------------------------------------------------------------------

  #openStream(): void {
    const call = this.#client.makeBidiStreamRequest(
      this.#sessionPath,
      encodeSessionFrame,
      this.#decodeReply,
      bearerMetadata(this.#credential),
    ) as SessionStream;
    const ctx = new StreamContext(call);
    call.on("data", (frame: SessionReply) => {
      this.#onFrame(ctx, frame);
    });
    // Every non-OK status is also emitted as 'error'; without a listener it would crash the
    // process. The 'status' event that always follows is where the drop is handled.
    call.on("error", noop);
    call.on("status", (status: grpc.StatusObject) => {
      this.#onStatus(ctx, status);
    });
    call.on("drain", () => {
      if (ctx !== this.#stream) return;
      ctx.writable = true;
      this.#pump();
    });
    this.#stream = ctx;
    this.#state = "connecting";
    ctx.writable = call.write(openFrame(this.#window.ackThrough(), this.#virqRingBytes));
    this.#readyTimer = setTimeout(this.#onReadyTimeout, this.#readyTimeoutMs);
  }

  readonly #onReadyTimeout = (): void => {
    this.#readyTimer = undefined;
    const ctx = this.#stream;
    if (ctx === undefined || ctx.ready) return;
    this.#logger?.warn({ timeoutMs: this.#readyTimeoutMs }, "session ready timed out");
    ctx.call.cancel(); // its 'status' (CANCELLED) schedules the retry
  };

  readonly #reconnectNow = (): void => {
    this.#reconnectTimer = undefined;
    if (this.#state === "backoff") this.#openStream();
  };

  #onStatus(ctx: StreamContext, status: grpc.StatusObject): void {
    if (ctx !== this.#stream) return; // an older stream, or close() already took over
    this.#stream = undefined;
    if (this.#readyTimer !== undefined) {
      clearTimeout(this.#readyTimer);
      this.#readyTimer = undefined;
    }
    if (FATAL_STREAM_CODES.has(status.code)) {
      this.#fail(this.#refusal(status));
      return;
    }
    if (!this.#everReady && Date.now() >= this.#connectDeadline) {
      this.#fail(
        new HypercallStatusError(
          status.code,
          `could not open a session with ${this.#address}: ${status.details}`,
        ),
      );
      return;
    }
    if (this.#everReady) {
      const now = Date.now();
      this.#outageSince ??= now;
      if (now - this.#outageSince >= this.#reconnectTimeoutMs) {
        this.#fail(
          new HypercallStatusError(
            grpc.status.UNAVAILABLE,
            `the hypervisor at ${this.#address} stayed unreachable for ${now - this.#outageSince} ms (reconnect timeout ${this.#reconnectTimeoutMs} ms): ${status.details}`,
          ),
        );
        return;
      }
    }
    const delayMs = this.#backoff.next();
    if (delayMs === undefined) {
      this.#fail(
        new HypercallStatusError(
          grpc.status.UNAVAILABLE,
          `gave up reconnecting after ${this.#backoff.attempt} attempts: ${status.details}`,
        ),
      );
      return;
    }
    this.#state = "backoff";
    this.#logger?.warn(
      { attempt: this.#backoff.attempt, delayMs, code: status.code, details: status.details },
      "session reconnecting",
    );
    this.#reconnectTimer = setTimeout(this.#reconnectNow, delayMs);
  }

  /** The error for a stream the server ended with a code that no reconnect can cure. */
  #refusal(status: grpc.StatusObject): HypercallStatusError {
    if (status.code === grpc.status.UNAUTHENTICATED && this.#everReady) {
      return new DomainLostError(
        status.code,
        `the hypervisor at ${this.#address} no longer accepts domain ${this.#domid}'s credential (${status.details}): it restarted without its state (--state-dir), or the domain was destroyed`,
      );
    }
    return new HypercallStatusError(
      status.code,
      `hypervisor refused the session: ${status.details}`,
    );
  }

  #onFrame(ctx: StreamContext, frame: SessionReply): void {
    switch (frame.kind) {
      case "results":
        // Results are valid whichever stream brought them: a late frame of a dropped stream
        // still answers its request ids, and duplicates are ignored by id.
        this.#onResults(frame);
        return;
      case "event":
        // The rings are the whole story only where the hypervisor said it sends them.
        if (isVirqEvent(frame) && ctx === this.#stream)
          this.#fireVirq(ctx.virqRingBytes > 0 ? virqRings(frame) : undefined);
        return;
      case "ready": {
        if (ctx !== this.#stream || ctx.ready) return;
        let info: ReadyInfo | undefined;
        try {
          info = decodeReady(frame);
        } catch (err) {
          this.#logger?.error({ err }, "undecodable ready frame");
        }
        if (info === undefined) {
          ctx.call.cancel();
          return;
        }
        this.#onReady(ctx, info);
        return;
      }
      case undefined:
        return;
    }
  }

  #onReady(ctx: StreamContext, info: ReadyInfo): void {
    if (this.#everReady && info.domid !== this.#domid) {
      this.#fail(
        new HypercallStatusError(
          grpc.status.FAILED_PRECONDITION,
          `session resumed as domain ${info.domid}, not ${this.#domid}`,
        ),
      );
      return;
    }
    ctx.ready = true;
    ctx.virqRingBytes = info.virqRingBytes;
    if (this.#readyTimer !== undefined) {
      clearTimeout(this.#readyTimer);
      this.#readyTimer = undefined;
    }
    this.#domid = info.domid;
    this.#window.limit = info.resumeWindow > 0 ? info.resumeWindow : DEFAULT_RESUME_WINDOW;
    this.#maxBatch = info.maxBatch > 0 ? info.maxBatch : DEFAULT_MAX_BATCH;
    this.#dependentBatches = info.dependentBatches;
    // A restarted agent process must not reuse ids its domain already executed.
    this.#window.skipPast(info.lastExecuted);
    this.#state = "ready";
    this.#backoff.reset();
    this.#outageSince = undefined;
    const resumed = this.#everReady;
    this.#everReady = true;

    // A stopOnError batch that already saw its failing result will not run its remaining
    // calls (the server answers them ABORTED without executing): finish it here rather than
    // resend calls whose ABORTED answers may not be in the resume log.
    for (const b of [...this.#window.live()]) if (b.failed) this.#abortRest(b);
    this.#window.retire();
    this.#window.rewind();
    if (resumed) {
      this.#reconnects += 1;
      this.#logger?.info(
        { domid: info.domid, lastExecuted: info.lastExecuted, inFlight: this.#window.inFlight },
        "session resumed",
      );
    } else {
      this.#logger?.debug(
        { domid: info.domid, resumeWindow: this.#window.limit, maxBatch: this.#maxBatch },
        "session ready",
      );
    }
    this.#admit(); // resends first (they sit before the cursor's end), then admits new batches
    if (resumed) {
      this.#fireVirq(); // a VIRQ may have been raised while the link was down
    } else {
      const waiter = this.#connectWaiter;
      this.#connectWaiter = undefined;
      waiter?.resolve(this);
    }
  }

  #fail(err: Error): void {
    if (this.#state === "closed" || this.#state === "failed") return;
    this.#state = "failed";
    this.#terminalError = err;
    this.#clearTimers();
    const ctx = this.#stream;
    this.#stream = undefined;
    ctx?.call.cancel();
    this.#rejectAll(err);
    this.#client.close();
    this.#logger?.error({ err }, "session failed");
    const waiter = this.#connectWaiter;
    this.#connectWaiter = undefined;
    waiter?.reject(err);
    for (const listener of this.#fatalListeners) {
      try {
        listener(err);
      } catch (listenerErr) {
        this.#logger?.error({ err: listenerErr }, "fatal listener threw");
      }
    }
    this.#rejectClosed(err);
  }

  #clearTimers(): void {
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    if (this.#readyTimer !== undefined) clearTimeout(this.#readyTimer);
    this.#reconnectTimer = undefined;
    this.#readyTimer = undefined;
  }

  #rejectAll(err: Error): void {
    for (const b of this.#window.drain()) {
      b.done = true;
      b.reject(err);
    }
  }

  #fireVirq(rings?: readonly VirqRing[]): void {
    for (const listener of this.#virqListeners) {
      try {
        listener(rings);
      } catch (err) {
        this.#logger?.error({ err }, "virq listener threw");
      }
    }
  }

  // ---- the window: admission, writing, results ----------------------------------------------

  /** Gives queued batches their request ids while the window has room, then writes. */
  #admit(): void {
    if (this.#state !== "ready") return;
    this.#window.admit();
    this.#pump();
  }

  /**
   * Writes in-flight batches from the cursor until the stream pushes back. A write that
   * returns false was still accepted; writing resumes on 'drain'.
   */
  #pump(): void {
    const ctx = this.#stream;
    if (ctx === undefined || !ctx.ready || !ctx.writable) return;
    for (let b = this.#window.nextToWrite(); b !== undefined; b = this.#window.nextToWrite()) {
      // Resend only what is unanswered: the answered prefix holds no failure (or the batch
      // would be `failed` and finished in #onReady), so stopOnError keeps its meaning.
      const calls = b.prefix === 0 ? b.calls : b.calls.slice(b.prefix);
      if (b.sentOnce) {
        this.#callsResent += calls.length;
      } else {
        b.sentOnce = true;
        this.#callsSent += calls.length;
      }
      if (!ctx.call.write(batchFrame(calls, b.stopOnError, this.#window.ackThrough(), b.after))) {
        ctx.writable = false;
        return;
      }
    }
  }

  #onResults(frame: SessionReply): void {
    for (const result of frameResults(frame)) {
      let id: number;
      try {
        id = resultRequestId(result);
      } catch (err) {
        this.#logger?.warn({ err }, "result with an undecodable request id");
        continue;
      }
      const b = this.#window.find(id);
      if (b === undefined) continue; // already answered (a replay after a resend)
      const index = id - b.firstId;
      const op = b.ops[index];
      if (op === undefined || b.outcomes[index] !== undefined) continue;
      const outcome = decodeOutcome(result, op.op);
      b.outcomes[index] = outcome;
      b.received += 1;
      if (index === b.prefix) {
        let p = index + 1;
        while (p < b.count && b.outcomes[p] !== undefined) p++;
        b.prefix = p;
      }
      if (b.stopOnError && isFailure(outcome)) b.failed = true;
      if (b.received === b.count) this.#complete(b);
    }
    this.#window.retire();
    this.#admit();
  }

  #complete(b: PendingBatch): void {
    this.#window.complete(b);
    b.resolve(b.outcomes as HypercallOutcome[]);
  }

  /** Completes a failed stopOnError batch: its unanswered calls were skipped, not executed. */
  #abortRest(b: PendingBatch): void {
    for (let i = 0; i < b.count; i++) {
      b.outcomes[i] ??= {
        op: "status",
        code: grpc.status.ABORTED,
        message: "skipped: an earlier call of this stopOnError batch failed",
      };
    }
    b.received = b.prefix = b.count;
    this.#complete(b);
  }
}

/**
 * Numbers a batch's calls from its first request id, as the window admits it, and sets the id
 * it runs after: the last call of the batch before it on its chain, which the window admitted
 * first. One that already completed successfully needs no dependency (and its result may
 * have been acknowledged away, which the hypervisor would read as a failure); one that failed
 * is named all the same, so that this batch is skipped.
 */
function stampRequestIds(b: PendingBatch): void {
  let id = b.firstId;
  for (const call of b.calls) call.requestId = id++;
  const before = b.dependsOn;
  b.dependsOn = undefined;
  if (before !== undefined && !(before.done && succeeded(before)))
    b.after = before.firstId + before.count - 1;
}

/** Whether a completed batch's last call ran with `ret >= 0`. */
function succeeded(b: PendingBatch): boolean {
  const last = b.outcomes[b.count - 1];
  return last !== undefined && !isFailure(last);
}

// Module-level result pickers: the convenience methods pass these to `.then` instead of a
// fresh closure per call.

function failure(outcome: HypercallOutcome | undefined, expected: string): HypercallStatusError {
  if (outcome?.op === "status") return new HypercallStatusError(outcome.code, outcome.message);
  return new HypercallStatusError(
    grpc.status.INTERNAL,
    `expected a ${expected} outcome, got ${outcome?.op ?? "none"}`,
  );
}

function retOf(outcomes: HypercallOutcome[]): number {
  const o = outcomes[0];
  if (o === undefined || o.op === "status") throw failure(o, "ret");
  return o.ret;
}

function readResultOf(outcomes: HypercallOutcome[]): { ret: number; data: Buffer } {
  const o = outcomes[0];
  if (o?.op !== "readMemory") throw failure(o, "readMemory");
  return { ret: o.ret, data: o.data };
}

function notifyResultOf(outcomes: HypercallOutcome[]): {
  ret: number;
  entries: readonly NotifyResultEntry[];
} {
  const o = outcomes[0];
  if (o?.op !== "notify") throw failure(o, "notify");
  return { ret: o.ret, entries: o.entries };
}

function domainInfoOf(outcomes: HypercallOutcome[]): DomainInfo {
  const o = outcomes[0];
  if (o?.op !== "getDomainInfo") throw failure(o, "getDomainInfo");
  return o.info;
}
