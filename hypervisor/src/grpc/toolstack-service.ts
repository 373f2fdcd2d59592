// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx.toolstack.v1.Toolstack`: the administrator's API (Xen's toolstack role) on its own
 * listener. Every call checks the admin token first; bad input is INVALID_ARGUMENT naming the
 * field and value, and changes nothing. The MAC RPCs live in `mac-service.ts`.
 */
import * as grpc from "@grpc/grpc-js";
import type { ToolstackHandlers } from "@hmx/proto/gen/hmx/toolstack/v1/Toolstack.js";
import type { Logger } from "pino";
import type { Argo } from "../argo/argo.js";
import { DomainConfigError, DomainIdsExhaustedError } from "../domain/domain-registry.js";
import type { DomainRegistry } from "../domain/domain-registry.js";
import { MemoryQuotaExhaustedError } from "../memory/memory-quota.js";
import { GrpcError, type AdminAuth } from "./auth.js";
import { u64ToNumber } from "./codec.js";
import type { GuestStreams } from "./guest-streams.js";
import type { FaultService } from "./fault-service.js";
import type { MacService } from "./mac-service.js";
import { DeviceConfigError, type DeviceManager } from "../devices/device-manager.js";
import {
  createDeviceHandlers,
  decodeDeviceSpec,
  deviceErrorStatus,
  encodeDeviceInfo,
} from "./device-service.js";

export interface ToolstackContext {
  readonly registry: DomainRegistry;
  readonly argo: Argo;
  readonly streams: GuestStreams;
  readonly auth: AdminAuth;
  readonly log: Logger;
  /** The MAC RPCs (policy, what-if, firewall, audit), served on the same service. */
  readonly mac: MacService["handlers"];
  /** VirtIO device placement and the tables at gfn 0 (docs/virtio-argo.md "Discovery"). */
  readonly devices: DeviceManager;
  /** The fault RPCs (fault-service.ts), served on the same service. */
  readonly faults: FaultService["handlers"];
}

function toStatus(err: unknown, log: Logger): Partial<grpc.StatusObject> {
  if (err instanceof GrpcError) return { code: err.code, details: err.details };
  if (err instanceof DomainConfigError) {
    return {
      code: err.kind === "conflict" ? grpc.status.ALREADY_EXISTS : grpc.status.INVALID_ARGUMENT,
      details: err.message,
    };
  }
  if (err instanceof DeviceConfigError) return toStatus(deviceErrorStatus(err), log);
  if (err instanceof DomainIdsExhaustedError)
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message };
  // A CreateDomain whose memory_bytes the total cannot reserve: the message names both sizes and the flag.
  if (err instanceof MemoryQuotaExhaustedError)
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message };
  log.error({ err }, "internal error in toolstack call");
  return { code: grpc.status.INTERNAL, details: "internal error" };
}

/** Wraps a synchronous handler body with admin auth and error mapping. */
function handler<Req, Res>(
  ctx: Pick<ToolstackContext, "auth" | "log">,
  body: (request: Req) => Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    try {
      ctx.auth.check(call.metadata);
      callback(null, body(call.request));
    } catch (err) {
      callback(toStatus(err, ctx.log));
    }
  };
}

/** `handler` for the RPC groups built outside this file (the fault RPCs). */
export function adminUnary(
  ctx: Pick<ToolstackContext, "auth" | "log">,
): <Req, Res>(body: (request: Req) => Res) => grpc.handleUnaryCall<Req, Res> {
  return (body) => handler(ctx, body);
}

export function createToolstackService(ctx: ToolstackContext): ToolstackHandlers {
  return {
    CreateDomain: handler(ctx, (r) => {
      const memoryBytes = u64ToNumber(r.memoryBytes);
      // Decode the devices first, so a malformed one changes nothing.
      const specs = r.devices.map(decodeDeviceSpec);
      const { domain, credential } = ctx.registry.create({
        name: r.name,
        label: r.label,
        memoryBytes,
        privileged: r.privileged,
      });
      let devices;
      try {
        devices = ctx.devices.attach(domain.domid, specs);
      } catch (err) {
        // All or nothing: a domain whose devices cannot be placed is not created.
        ctx.registry.destroy(domain.domid);
        throw err;
      }
      ctx.log.info(
        {
          domid: domain.domid,
          name: domain.name,
          label: domain.label,
          privileged: domain.privileged,
          memoryBytes,
        },
        "domain created",
      );
      return { domid: domain.domid, credential, devices: devices.map(encodeDeviceInfo) };
    }),
    DestroyDomain: handler(ctx, (r) => {
      if (!ctx.registry.destroy(r.domid))
        throw new GrpcError(grpc.status.NOT_FOUND, `no domain with domid ${r.domid}`);
      ctx.streams.endAll(grpc.status.UNAUTHENTICATED, `domain ${r.domid} was destroyed`, r.domid);
      ctx.log.info({ domid: r.domid }, "domain destroyed");
      return {};
    }),
    ListDomains: handler(ctx, () => ({
      domains: ctx.registry.list().map((d) => ({
        domid: d.domid,
        name: d.name,
        label: d.label,
        privileged: d.privileged,
        memoryBytes: String(d.memory.sizeBytes),
        memoryResidentBytes: String(d.memory.residentBytes),
        rings: ctx.argo.ringCount(d),
        connected: ctx.streams.isConnected(d.domid),
        counters: {
          hypercalls: String(d.counters.hypercalls),
          errors: String(d.counters.errors),
          messagesSent: String(d.counters.messagesSent),
          bytesSent: String(d.counters.bytesSent),
          messagesReceived: String(d.counters.messagesReceived),
          bytesReceived: String(d.counters.bytesReceived),
          virqs: String(d.counters.virqs),
        },
      })),
    })),
    ...ctx.mac,
    ...ctx.faults,
    ...createDeviceHandlers(ctx.devices, (body) => handler(ctx, body)),
  };
}
