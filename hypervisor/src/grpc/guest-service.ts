// SPDX-License-Identifier: Apache-2.0
/**
 * The unary RPCs and WatchEvents of `hmx.argo.v1.Hypervisor`: thin adapters that authenticate
 * the caller, decode, run the hypercall through the shared dispatcher (at most once when the
 * call carries `hmx-request-id`), and encode. No Argo logic lives here. A unary call runs as a
 * one-step job on the fair scheduler, behind its domain's earlier work; its reply is charged to
 * the domain until grpc-js has sent it, and a domain over its budget gets RESOURCE_EXHAUSTED.
 * WatchEvents writes respect backpressure (events/backpressured-watcher.ts).
 */
import * as grpc from "@grpc/grpc-js";
import { REQUEST_ID_METADATA_KEY } from "@hmx/proto";
import type { Event } from "@hmx/proto/gen/hmx/argo/v1/Event.js";
import type { HypervisorHandlers } from "@hmx/proto/gen/hmx/argo/v1/Hypervisor.js";
import type { WatchEventsRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/WatchEventsRequest.js";
import type { EnrolRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/EnrolRequest.js";
import type { EnrolResponse } from "@hmx/proto/gen/hmx/argo/v1/EnrolResponse.js";
import type { ListPeersRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/ListPeersRequest.js";
import type { ListPeersResponse } from "@hmx/proto/gen/hmx/argo/v1/ListPeersResponse.js";
import type { Logger } from "pino";
import type { HypercallDispatcher } from "../dispatch/dispatcher.js";
import type { HeldBytesLedger } from "../dispatch/held-bytes.js";
import type { Hypercall, HypercallResult as CoreResult } from "../dispatch/hypercall.js";
import type { FairScheduler } from "../dispatch/scheduler.js";
import { BackpressuredWatcher } from "../events/backpressured-watcher.js";
import type { DomainRegistry } from "../domain/domain-registry.js";
import type { DeviceEvent, EventChannel } from "../events/event-channel.js";
import { EnrolmentError, type EnrolmentService } from "../fleet/enrolment.js";
import { GrpcError, authenticateGuest, bearerToken } from "./auth.js";
import {
  decodeNotify,
  decodeRegisterRing,
  decodeSendv,
  decodeUnregisterRing,
  encodeResult,
  parseRequestId,
  u64ToNumber,
  DecodeError,
} from "./codec.js";
import type { GuestStreams } from "./guest-streams.js";
import { resultWireBytes } from "./result-bytes.js";
import { createSessionHandler } from "./session-service.js";
import { workUnits } from "../dispatch/work-units.js";

export interface GuestServiceContext {
  readonly registry: DomainRegistry;
  readonly dispatcher: HypercallDispatcher;
  readonly events: EventChannel;
  readonly streams: GuestStreams;
  /** Runs every guest hypercall, domains served round-robin. */
  readonly scheduler: FairScheduler;
  /** What the service holds for each domain, against its budget. */
  readonly held: HeldBytesLedger;
  readonly log: Logger;
  readonly maxBatch: number;
  /** True once shutdown began: new calls get UNAVAILABLE. */
  readonly isStopping: () => boolean;
  /** Domain templates guests may enrol into (Enrol). */
  readonly enrolment: EnrolmentService;
}

/** Most WatchEvents streams one domain may hold open at once (an hmx quota). */
export const MAX_WATCHERS_PER_DOMAIN = 8;

/** Maps anything thrown by an adapter to a gRPC status object. */
export function toServiceError(err: unknown, log: Logger): Partial<grpc.StatusObject> {
  if (err instanceof GrpcError) return { code: err.code, details: err.details };
  if (err instanceof DecodeError)
    return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof EnrolmentError) {
    const code = {
      unauthenticated: grpc.status.UNAUTHENTICATED,
      exhausted: grpc.status.RESOURCE_EXHAUSTED,
      invalid: grpc.status.INVALID_ARGUMENT,
      conflict: grpc.status.ALREADY_EXISTS,
    }[err.kind];
    return { code, details: err.message };
  }
  log.error({ err }, "internal error in guest call");
  return { code: grpc.status.INTERNAL, details: "internal error" };
}

type Encoded = ReturnType<typeof encodeResult>;

function unary<Req, K extends keyof Encoded>(
  ctx: GuestServiceContext,
  field: K,
  decode: (request: Req) => Hypercall,
): grpc.handleUnaryCall<Req, NonNullable<Encoded[K]>> {
  return (call, callback) => {
    try {
      if (ctx.isStopping())
        throw new GrpcError(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
      const domain = authenticateGuest(ctx.registry, call.metadata);
      const account = ctx.held.of(domain.domid);
      if (account.over) throw new GrpcError(grpc.status.RESOURCE_EXHAUSTED, account.refusal());
      const hypercall = decode(call.request);
      const rawId = call.metadata.get(REQUEST_ID_METADATA_KEY)[0];
      const requestId = rawId === undefined ? undefined : parseRequestId(String(rawId));
      const reply = (result: CoreResult): void => {
        if (result.op === "status") {
          callback({ code: result.code, details: result.message });
          return;
        }
        // Held until grpc-js has sent it: its 'cancelled' fires once the status went out (or
        // the stream closed), which is when the reply's buffers are free.
        if (!call.cancelled) {
          const bytes = resultWireBytes(result);
          account.charge(bytes);
          call.once("cancelled", () => {
            account.release(bytes);
          });
        }
        callback(null, encodeResult(0, result)[field] as NonNullable<Encoded[K]>);
      };
      let done = false;
      ctx.scheduler.enqueue(domain.domid, {
        get done() {
          return done;
        },
        step: () => {
          done = true;
          const result: CoreResult =
            requestId === undefined
              ? ctx.dispatcher.execute(domain, hypercall)
              : ctx.dispatcher.executeOnce(domain, requestId, hypercall);
          reply(result);
          return workUnits(hypercall, result);
        },
        failed: (err) => {
          callback(toServiceError(err, ctx.log));
        },
      });
    } catch (err) {
      callback(toServiceError(err, ctx.log));
    }
  };
}

/** A device event as the `Event` oneof carries it (WatchEvents and the Session stream). */
export function deviceEventMessage(event: DeviceEvent): Event {
  const body = {
    devIndex: event.devIndex,
    virtioDeviceId: event.virtioDeviceId,
    peerDomid: event.peerDomid,
    role: event.role,
    tableGeneration: event.tableGeneration,
  };
  return event.kind === "added" ? { deviceAdded: body } : { deviceRemoved: body };
}

function watchEvents(
  ctx: GuestServiceContext,
): grpc.handleServerStreamingCall<WatchEventsRequest__Output, Event> {
  return (call) => {
    let domid: number;
    try {
      if (ctx.isStopping())
        throw new GrpcError(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
      domid = authenticateGuest(ctx.registry, call.metadata).domid;
      // Each open stream costs the hypervisor a watcher: a guest may not open them without end.
      if (ctx.streams.count(domid, "watch") >= MAX_WATCHERS_PER_DOMAIN) {
        throw new GrpcError(
          grpc.status.RESOURCE_EXHAUSTED,
          `at most ${MAX_WATCHERS_PER_DOMAIN} WatchEvents streams per domain are open already`,
        );
      }
    } catch (err) {
      call.emit("error", toServiceError(err, ctx.log));
      return;
    }
    let ended = false;
    const stream = {
      kind: "watch" as const,
      end: (code: grpc.status, details: string) => {
        if (ended) return;
        cleanup();
        call.emit("error", { code, details });
      },
    };
    const watcher = new BackpressuredWatcher({
      virq: (virq, written) => {
        call.write({ virq: { virq } }, written);
      },
      device: (event, written) => {
        call.write(deviceEventMessage(event), written);
      },
    });
    const detach = ctx.events.attach(domid, watcher);
    const cleanup = () => {
      if (ended) return;
      ended = true;
      detach();
      watcher.close();
      ctx.streams.remove(domid, stream);
    };
    ctx.streams.add(domid, stream);
    call.on("cancelled", cleanup);
    call.on("close", cleanup);
    call.on("error", cleanup);
  };
}

/** Enrol: the enrolment token is the bearer; a domain credential is the wrong kind. */
function enrol(
  ctx: GuestServiceContext,
): grpc.handleUnaryCall<EnrolRequest__Output, EnrolResponse> {
  return (call, callback) => {
    try {
      if (ctx.isStopping())
        throw new GrpcError(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
      const token = bearerToken(call.metadata);
      if (token === undefined) {
        throw new GrpcError(
          grpc.status.UNAUTHENTICATED,
          "missing 'authorization: Bearer <enrolment token>' metadata",
        );
      }
      const enrolled = ctx.enrolment.enrol(
        token,
        call.request.instance,
        call.request.instanceSecret,
      );
      callback(null, enrolled);
    } catch (err) {
      callback(toServiceError(err, ctx.log));
    }
  };
}

/** ListPeers: every other live domain, as the guest may see it. */
function listPeers(
  ctx: GuestServiceContext,
): grpc.handleUnaryCall<ListPeersRequest__Output, ListPeersResponse> {
  return (call, callback) => {
    try {
      const caller = authenticateGuest(ctx.registry, call.metadata);
      const peers = ctx.registry
        .list()
        .filter((d) => d.domid !== caller.domid)
        .map((d) => ({ domid: d.domid, name: d.name, label: d.label }));
      callback(null, { peers });
    } catch (err) {
      callback(toServiceError(err, ctx.log));
    }
  };
}

/** Builds the handler table of `hmx.argo.v1.Hypervisor`. */
export function createGuestService(ctx: GuestServiceContext): HypervisorHandlers {
  return {
    GetDomainInfo: unary(ctx, "getDomainInfo", () => ({ op: "getDomainInfo" })),
    ReadMemory: unary(ctx, "readMemory", (r) => ({
      op: "readMemory",
      gpa: u64ToNumber(r.gpa),
      length: r.length,
    })),
    WriteMemory: unary(ctx, "writeMemory", (r) => ({
      op: "writeMemory",
      gpa: u64ToNumber(r.gpa),
      data: r.data,
    })),
    RegisterRing: unary(ctx, "registerRing", (r) => ({
      op: "registerRing",
      args: decodeRegisterRing(r),
    })),
    UnregisterRing: unary(ctx, "unregisterRing", (r) => ({
      op: "unregisterRing",
      args: decodeUnregisterRing(r),
    })),
    Sendv: unary(ctx, "sendv", (r) => ({ op: "sendv", args: decodeSendv(r) })),
    Notify: unary(ctx, "notify", (r) => ({ op: "notify", ringData: decodeNotify(r) })),
    WatchEvents: watchEvents(ctx),
    Enrol: enrol(ctx),
    ListPeers: listPeers(ctx),
    // Served with guestServiceDefinition() (lazy-batch.ts), whose Session frames are SessionFrame.
    Session: createSessionHandler(ctx),
  };
}
