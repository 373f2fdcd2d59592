// SPDX-License-Identifier: Apache-2.0
/**
 * The `Session` stream: the guest agent's pipelined fast path (rules in hypervisor.proto).
 *
 * Frames are handled as they arrive and each batch runs to completion synchronously, so calls
 * execute strictly in order (a multicall) and a batch's results go back as one frame. Request
 * ids go through the domain's resume log, so a batch resent after a reconnect is answered, not
 * re-run. When the guest stops reading, the stream pauses reading until the writes drain: a
 * guest cannot make the hypervisor buffer unbounded results.
 */
import * as grpc from "@grpc/grpc-js";
import type { Hypercall__Output } from "@hmx/proto/gen/hmx/argo/v1/Hypercall.js";
import type { HypercallBatch__Output } from "@hmx/proto/gen/hmx/argo/v1/HypercallBatch.js";
import type { HypercallResult as WireResult } from "@hmx/proto/gen/hmx/argo/v1/HypercallResult.js";
import type { SessionRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/SessionRequest.js";
import type { SessionResponse } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";
import type { Domain } from "../domain/domain.js";
import { isFailure, type Hypercall, type HypercallResult } from "../dispatch/hypercall.js";
import { GrpcError, authenticateGuest } from "./auth.js";
import { ABORTED_BY_STOP_ON_ERROR, DecodeError, decodeHypercall, encodeResult, parseRequestId, u64ToNumber } from "./codec.js";
import type { GuestStream } from "./guest-streams.js";
import type { GuestServiceContext } from "./guest-service.js";
import { deviceEventMessage, toServiceError } from "./guest-service.js";

type SessionCall = grpc.ServerDuplexStream<SessionRequest__Output, SessionResponse>;

/** Acknowledgement watermark: "0" or absent means none. */
function ackOf(value: string | undefined): number {
  const n = value === undefined ? 0 : u64ToNumber(value);
  return Number.isFinite(n) ? n : 0;
}

class Session implements GuestStream {
  readonly kind = "session" as const;
  private opened = false;
  private ended = false;
  private detachEvents: (() => void) | undefined;

  constructor(
    private readonly ctx: GuestServiceContext,
    private readonly call: SessionCall,
    private readonly domain: Domain,
  ) {
    call.on("data", (frame: SessionRequest__Output) => {
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

  end(status: Partial<grpc.StatusObject>): void;
  end(code: grpc.status, details: string): void;
  end(a: grpc.status | Partial<grpc.StatusObject>, details?: string): void {
    if (this.ended) return;
    const status = typeof a === "number" ? { code: a, details: details ?? "" } : a;
    this.cleanup();
    this.call.emit("error", status);
  }

  private onFrame(frame: SessionRequest__Output): void {
    if (this.ended) return;
    if (!this.domain.alive) throw new GrpcError(grpc.status.UNAUTHENTICATED, `domain ${this.domain.domid} was destroyed`);
    if (frame.kind === "open") {
      if (this.opened) throw new DecodeError("session already open: 'open' may only be the first frame");
      this.open(ackOf(frame.open?.ackThrough));
      return;
    }
    if (frame.kind === "batch" && frame.batch != null) {
      if (!this.opened) throw new DecodeError("the first frame of a session must be 'open'");
      this.runBatch(frame.batch);
      return;
    }
    throw new DecodeError("session frame has neither 'open' nor 'batch'");
  }

  private open(ackThrough: number): void {
    this.opened = true;
    const { ctx, domain } = this;
    // The newest session of a domain takes over (DESIGN.md §3.2).
    for (const older of ctx.streams.otherSessions(domain.domid, this)) {
      older.end(grpc.status.ABORTED, "superseded by a newer session of this domain");
    }
    ctx.streams.add(domain.domid, this);
    const log = ctx.dispatcher.resumeLog(domain);
    if (ackThrough > 0) log.acknowledge(ackThrough);
    this.write({
      ready: {
        domid: domain.domid,
        lastExecuted: String(log.lastExecuted),
        resumeWindow: ctx.dispatcher.resumeLimits.maxEntries,
        maxBatch: ctx.maxBatch,
      },
    });
    this.detachEvents = ctx.events.attach(domain.domid, {
      deliverVirq: (virq) => {
        this.write({ event: { virq: { virq } } });
      },
      deliverDevice: (event) => {
        this.write({ event: deviceEventMessage(event) });
      },
    });
    ctx.log.debug({ domid: domain.domid, lastExecuted: log.lastExecuted }, "session opened");
  }

  private runBatch(batch: HypercallBatch__Output): void {
    const { ctx, domain } = this;
    if (batch.calls.length > ctx.maxBatch) {
      throw new GrpcError(
        grpc.status.RESOURCE_EXHAUSTED,
        `batch of ${batch.calls.length} calls exceeds max_batch ${ctx.maxBatch}`,
      );
    }
    const ack = ackOf(batch.ackThrough);
    if (ack > 0) ctx.dispatcher.resumeLog(domain).acknowledge(ack);
    const results: WireResult[] = [];
    let stopped = false;
    for (const call of batch.calls) {
      const requestId = parseRequestId(call.requestId);
      const result = ctx.dispatcher.answerOnce(domain, requestId, () =>
        stopped ? ABORTED_BY_STOP_ON_ERROR : this.decodeAndExecute(call),
      );
      if (batch.stopOnError && isFailure(result)) stopped = true;
      results.push(encodeResult(requestId, result));
    }
    this.write({ results: { results } });
  }

  /** Decodes one call and executes it; an undecodable call is answered INVALID_ARGUMENT. */
  private decodeAndExecute(call: Hypercall__Output): HypercallResult {
    let hypercall: Hypercall;
    try {
      hypercall = decodeHypercall(call);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return { op: "status", code: grpc.status.INVALID_ARGUMENT, message: err.message };
    }
    return this.ctx.dispatcher.execute(this.domain, hypercall);
  }

  private write(response: SessionResponse): void {
    if (this.ended) return;
    if (!this.call.write(response)) {
      // Backpressure: stop reading hypercalls until the guest reads its results.
      this.call.pause();
      this.call.once("drain", () => this.call.resume());
    }
  }

  private cleanup(): void {
    if (this.ended) return;
    this.ended = true;
    this.detachEvents?.();
    this.ctx.streams.remove(this.domain.domid, this);
  }
}

/** The `Session` handler: authenticate, then hand the stream to a `Session`. */
export function createSessionHandler(ctx: GuestServiceContext): grpc.handleBidiStreamingCall<SessionRequest__Output, SessionResponse> {
  return (call) => {
    try {
      if (ctx.isStopping()) throw new GrpcError(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
      const domain = authenticateGuest(ctx.registry, call.metadata);
      new Session(ctx, call, domain);
    } catch (err) {
      call.emit("error", toServiceError(err, ctx.log));
    }
  };
}
