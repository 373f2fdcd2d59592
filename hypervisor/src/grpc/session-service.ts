// SPDX-License-Identifier: Apache-2.0
/**
 * The `Session` stream: the guest agent's pipelined fast path (rules in hypervisor.proto).
 *
 * A frame is validated whole (size, every request id) before any of its calls runs, then its
 * batch is queued as a job on the fair scheduler (dispatch/scheduler.ts): calls execute strictly
 * in order and stop-on-error (a multicall), each atomically, but other domains may be served
 * between two of them. Results go back in frames of at most RESULTS_FRAME_BYTES (one result on
 * its own when larger), so no frame exceeds the guest's decoder limit. Request ids go through
 * the domain's resume log, so a batch resent after a reconnect is answered, not re-run.
 *
 * What a guest can make the hypervisor hold is charged to its domain (dispatch/held-bytes.ts):
 * results stay charged until the transport took them, and while the domain is over its budget
 * the scheduler runs none of its calls. Reading stops while a session's queued requests exceed
 * MAX_QUEUED_REQUEST_BYTES or MAX_QUEUED_BATCHES, and a session that is taken over is reset if its guest left results
 * unread, which frees them at once.
 */
import * as grpc from "@grpc/grpc-js";
import { SESSION_FLOW_CONTROL_WINDOW } from "@hmx/proto";
import type { HypercallResult as WireResult } from "@hmx/proto/gen/hmx/argo/v1/HypercallResult.js";
import type { SessionResponse } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";
import type { Domain } from "../domain/domain.js";
import { isFailure, type Hypercall, type HypercallResult } from "../dispatch/hypercall.js";
import type { HeldBytes } from "../dispatch/held-bytes.js";
import type { Job } from "../dispatch/scheduler.js";
import { CALL_WORK_UNITS, workUnits } from "../dispatch/work-units.js";
import { BackpressuredWatcher } from "../events/backpressured-watcher.js";
import { GrpcError, authenticateGuest } from "./auth.js";
import {
  ABORTED_BY_DEPENDENCY,
  ABORTED_BY_STOP_ON_ERROR,
  DecodeError,
  decodeHypercall,
  encodeResult,
  parseRequestId,
  u64ToNumber,
} from "./codec.js";
import type { GuestStream } from "./guest-streams.js";
import type { GuestServiceContext } from "./guest-service.js";
import { deviceEventMessage, toServiceError } from "./guest-service.js";
import { decodeCall, type LazyBatch, type LazyCall, type SessionFrame } from "./lazy-batch.js";
import { resetHttp2Stream, widenFlowControl } from "./http2-stream.js";
import { resultWireBytes } from "./result-bytes.js";
import { decodeHotCall, EncodedResponse } from "./session-codec.js";
import { writeVirqSpansFrame } from "./virq-event-codec.js";
import { checkVirqRingBytes, PushCursors, virqRingSpans } from "./virq-ring-data.js";

/** Its responses go through `sessionResponseEncoder`, which also takes frames encoded already. */
type SessionCall = grpc.ServerDuplexStream<SessionFrame, SessionResponse | EncodedResponse>;

/**
 * A results frame is flushed before it would grow past this, so frames stay far below the
 * guest's 16 MiB decoder limit (GRPC_MESSAGE_LIMITS); one result larger than this (a 16 MiB
 * ReadMemory) goes in a frame of its own, which that limit was sized for.
 */
export const RESULTS_FRAME_BYTES = 4 * 1024 * 1024;

/** Reading a session's frames stops while its queued (not yet run) batches hold this much. */
export const MAX_QUEUED_REQUEST_BYTES = 16 * 1024 * 1024;
/** ...or while this many of its batches are queued (each costs a job and its frame). */
export const MAX_QUEUED_BATCHES = 256;

/** What a request costs to hold while queued: its calls' wire bytes (lazy-batch.ts keeps them). */
function requestBytes(calls: readonly LazyCall[]): number {
  let bytes = 0;
  for (const call of calls) bytes += 64 + call.bytes.length;
  return bytes;
}

/** A request id in a frame (an ack watermark, a batch's `after`): "0" or absent means none. */
function requestIdOrNone(value: string | undefined): number {
  const n = value === undefined ? 0 : u64ToNumber(value);
  return Number.isFinite(n) ? n : 0;
}

class Session implements GuestStream {
  readonly kind = "session" as const;
  private opened = false;
  private ended = false;
  private detachEvents: (() => void) | undefined;
  private watcher: BackpressuredWatcher | undefined;
  /** The domain's account of bytes held for it. */
  readonly held: HeldBytes;
  /** Bytes this session charged to it and the transport has not taken yet. */
  private unsent = 0;
  /** Request bytes of this session's batches queued and not finished. */
  private queuedRequestBytes = 0;
  private queuedBatches = 0;
  private paused = false;
  /** Ring bytes each VIRQ event may carry (SessionOpen.virq_ring_bytes; virq-ring-data.ts). */
  private virqRingBytes = 0;

  constructor(
    readonly ctx: GuestServiceContext,
    private readonly call: SessionCall,
    readonly domain: Domain,
  ) {
    this.held = ctx.held.of(domain.domid);
    call.on("data", (frame: SessionFrame) => {
      try {
        this.onFrame(frame);
      } catch (err) {
        this.end(toServiceError(err, ctx.log));
      }
    });
    call.on("end", () => {
      // The guest half-closed: finish cleanly.
      this.cleanup();
      call.end();
    });
    call.on("cancelled", () => {
      this.cleanup();
    });
    call.on("error", () => {
      this.cleanup();
    });
    call.on("close", () => {
      this.cleanup();
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  end(status: Partial<grpc.StatusObject>): void;
  end(code: grpc.status, details: string): void;
  end(a: grpc.status | Partial<grpc.StatusObject>, details?: string): void {
    if (this.ended) return;
    const status = typeof a === "number" ? { code: a, details: details ?? "" } : a;
    const unread = this.unsent > 0;
    this.cleanup();
    this.call.emit("error", status);
    // The status waits behind results the guest never read, and so would they, for as long as
    // the connection lives: reset the stream so its buffers are freed now.
    if (unread) resetHttp2Stream(this.call);
  }

  private onFrame(frame: SessionFrame): void {
    if (this.ended) return;
    if (!this.domain.alive)
      throw new GrpcError(grpc.status.UNAUTHENTICATED, `domain ${this.domain.domid} was destroyed`);
    if (frame.kind === "open") {
      if (this.opened)
        throw new DecodeError("session already open: 'open' may only be the first frame");
      this.open(
        requestIdOrNone(frame.open?.ackThrough),
        checkVirqRingBytes(frame.open?.virqRingBytes ?? 0),
      );
      return;
    }
    if (frame.kind === "batch") {
      if (!this.opened) throw new DecodeError("the first frame of a session must be 'open'");
      this.acceptBatch(frame.batch);
      return;
    }
    throw new DecodeError("session frame has neither 'open' nor 'batch'");
  }

  private open(ackThrough: number, virqRingBytes: number): void {
    this.opened = true;
    this.virqRingBytes = virqRingBytes;
    const { ctx, domain } = this;
    // The newest session of a domain takes over (DESIGN.md §3.2).
    for (const older of ctx.streams.otherSessions(domain.domid, this)) {
      older.end(grpc.status.ABORTED, "superseded by a newer session of this domain");
    }
    ctx.streams.add(domain.domid, this);
    const log = ctx.dispatcher.resumeLog(domain);
    if (ackThrough > 0) ctx.dispatcher.acknowledge(domain, ackThrough);
    this.write({
      ready: {
        domid: domain.domid,
        lastExecuted: String(log.lastExecuted),
        resumeWindow: ctx.dispatcher.resumeLimits.maxEntries,
        maxBatch: ctx.maxBatch,
        virqRingBytes,
        dependentBatches: true,
      },
    });
    // Each ring byte crosses this Session in one event at most (virq-ring-data.ts).
    const cursors = new PushCursors();
    const watcher = new BackpressuredWatcher({
      virq: (virq, written) => {
        const rings =
          this.virqRingBytes > 0 ? virqRingSpans(domain, this.virqRingBytes, cursors) : [];
        this.write(new EncodedResponse(writeVirqSpansFrame(virq, rings)), written);
      },
      device: (event, written) => {
        this.write({ event: deviceEventMessage(event) }, written);
      },
    });
    this.watcher = watcher;
    this.detachEvents = ctx.events.attach(domain.domid, watcher);
    ctx.log.debug({ domid: domain.domid, lastExecuted: log.lastExecuted }, "session opened");
  }

  /**
   * Checks the whole frame before any call runs (a bad request id ends the session with nothing
   * executed), applies its acknowledgement, and queues the batch on the scheduler.
   */
  private acceptBatch(batch: LazyBatch): void {
    const { ctx, domain } = this;
    if (batch.calls.length > ctx.maxBatch) {
      throw new GrpcError(
        grpc.status.RESOURCE_EXHAUSTED,
        `batch of ${batch.calls.length} calls exceeds max_batch ${ctx.maxBatch}`,
      );
    }
    const requestIds = batch.calls.map((call) => parseRequestId(call.requestId));
    const ack = requestIdOrNone(batch.ackThrough);
    if (ack > 0) ctx.dispatcher.acknowledge(domain, ack);
    const bytes = requestBytes(batch.calls);
    this.queuedRequestBytes += bytes;
    this.queuedBatches++;
    ctx.scheduler.enqueue(
      domain.domid,
      new BatchJob(this, batch, requestIds, requestIdOrNone(batch.after), () => {
        this.batchFinished(bytes);
      }),
    );
    if (this.queueFull() && !this.paused) {
      // Hold further frames in the transport (HTTP/2 flow control) until these have run.
      this.paused = true;
      this.call.pause();
    }
  }

  private queueFull(): boolean {
    return (
      this.queuedRequestBytes > MAX_QUEUED_REQUEST_BYTES || this.queuedBatches >= MAX_QUEUED_BATCHES
    );
  }

  private batchFinished(requestBytes: number): void {
    this.queuedRequestBytes -= requestBytes;
    this.queuedBatches--;
    if (this.paused && !this.queueFull()) {
      this.paused = false;
      if (!this.ended) this.call.resume();
    }
  }

  /**
   * Decodes one call (from its wire bytes: lazy-batch.ts; the hot ones by hand, session-codec.ts)
   * and executes it; an undecodable call is answered INVALID_ARGUMENT.
   */
  execute(call: LazyCall, follows = false): { result: HypercallResult; units: number } {
    let hypercall: Hypercall;
    try {
      hypercall = decodeHotCall(call.bytes) ?? decodeHypercall(decodeCall(call));
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return {
        result: { op: "status", code: grpc.status.INVALID_ARGUMENT, message: err.message },
        units: CALL_WORK_UNITS,
      };
    }
    const result = this.ctx.dispatcher.execute(this.domain, hypercall, follows);
    return { result, units: workUnits(hypercall, result) };
  }

  /** Writes a results frame, charged to the domain until the transport has taken it. */
  writeResults(results: WireResult[], bytes: number): void {
    if (this.ended) return;
    this.held.charge(bytes);
    this.unsent += bytes;
    this.call.write({ results: { results } }, () => {
      if (this.ended) return;
      this.unsent -= bytes;
      this.held.release(bytes);
    });
  }

  private write(response: SessionResponse | EncodedResponse, written?: () => void): void {
    if (this.ended) return;
    this.call.write(response, written);
  }

  private cleanup(): void {
    if (this.ended) return;
    this.ended = true;
    this.detachEvents?.();
    this.watcher?.close();
    this.ctx.streams.remove(this.domain.domid, this);
    // Whatever the transport still holds for this stream is no longer the domain's to wait on.
    const unsent = this.unsent;
    this.unsent = 0;
    this.held.release(unsent);
  }
}

/**
 * One batch as a scheduler job: one call per step, in order, stop-on-error, results gathered
 * into frames. `paused` flushes what is gathered, so results never wait on the next slice.
 */
class BatchJob implements Job {
  private index = 0;
  /** What the calls not yet run are answered once the batch stopped (null: running). */
  private stopped: HypercallResult | null = null;
  private frame: WireResult[] = [];
  private frameBytes = 0;
  private finished = false;
  /** True from the step after the scheduler (re)started this job until it pauses it. */
  private running = false;
  /** `after` not yet looked up (only the first call that has to run looks it up). */
  private dependencyPending: boolean;

  constructor(
    private readonly session: Session,
    private readonly batch: LazyBatch,
    private readonly requestIds: readonly number[],
    /** HypercallBatch.after (0: none). */
    private readonly after: number,
    private readonly onFinished: () => void,
  ) {
    this.dependencyPending = after > 0;
  }

  get done(): boolean {
    if (!this.finished && (this.session.isEnded || this.index >= this.batch.calls.length)) {
      this.finished = true;
      this.flush();
      this.onFinished();
    }
    return this.finished;
  }

  step(): number {
    const call = this.batch.calls[this.index];
    const requestId = this.requestIds[this.index];
    this.index++;
    if (call === undefined || requestId === undefined) return 0;
    let units = CALL_WORK_UNITS;
    const { dispatcher } = this.session.ctx;
    // Steps run back to back until the scheduler pauses the job: each call's time may start
    // where the previous one's ended (dispatcher.execute's `follows`), but not across a pause.
    const follows = this.running;
    if (!follows) {
      dispatcher.unchain();
      this.running = true;
    }
    const result = dispatcher.answerOnce(this.session.domain, requestId, () => {
      if (this.stopped !== null) return this.stopped;
      // Looked up when the first call of the batch that was not executed yet is reached: the
      // domain's earlier batches have all run by then (the scheduler keeps arrival order), and
      // calls this batch already ran in an earlier session were answered from the log above.
      if (this.dependencyPending) {
        this.dependencyPending = false;
        if (!dispatcher.succeeded(this.session.domain, this.after)) {
          this.stopped = ABORTED_BY_DEPENDENCY;
          return ABORTED_BY_DEPENDENCY;
        }
      }
      const ran = this.session.execute(call, follows);
      units = ran.units;
      return ran.result;
    });
    if (this.batch.stopOnError && isFailure(result)) this.stopped ??= ABORTED_BY_STOP_ON_ERROR;
    const bytes = resultWireBytes(result);
    if (this.frameBytes > 0 && this.frameBytes + bytes > RESULTS_FRAME_BYTES) this.flush();
    this.frame.push(encodeResult(requestId, result));
    this.frameBytes += bytes;
    // Charged while gathered too: a staged result is held as much as a sent one.
    this.session.held.charge(bytes);
    return units;
  }

  paused(): void {
    this.running = false;
    this.flush();
  }

  failed(err: unknown): void {
    this.finished = true;
    this.session.held.release(this.frameBytes);
    this.onFinished();
    this.session.end(toServiceError(err, this.session.ctx.log));
  }

  /**
   * Hands the gathered results to the transport once the scheduler's round has returned, so
   * that the VIRQs the round raised (delivered at its end: events/event-channel.ts) are written
   * before them: the receiver's event is on a message's path, the sender's results are not,
   * and HTTP/2 sends what was written in a turn in that order. The bytes stay charged until
   * then; microtasks keep a session's frames in order.
   */
  private flush(): void {
    if (this.frame.length === 0) return;
    const { frame, frameBytes, session } = this;
    this.frame = [];
    this.frameBytes = 0;
    queueMicrotask(() => {
      session.held.release(frameBytes);
      session.writeResults(frame, frameBytes);
    });
  }
}

/** The `Session` handler: authenticate, then hand the stream to a `Session`. */
export function createSessionHandler(
  ctx: GuestServiceContext,
): grpc.handleBidiStreamingCall<SessionFrame, SessionResponse> {
  return (call) => {
    try {
      if (ctx.isStopping())
        throw new GrpcError(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
      const domain = authenticateGuest(ctx.registry, call.metadata);
      widenFlowControl(call, SESSION_FLOW_CONTROL_WINDOW);
      new Session(ctx, call, domain);
    } catch (err) {
      call.emit("error", toServiceError(err, ctx.log));
    }
  };
}
