// SPDX-License-Identifier: Apache-2.0
/**
 * The toolstack's fault RPCs (`ApplyFault`, `ClearFaults`, `ListFaults`, `WatchFaults`): the
 * conversion between the wire and `FaultControl` (faults/fault-control.ts), the only fault code
 * that sees generated proto types. A refused fault is the gRPC status matching Toxiproxy's HTTP
 * one (400 INVALID_ARGUMENT, 404 NOT_FOUND, 409 ALREADY_EXISTS, 412 FAILED_PRECONDITION).
 */
import * as grpc from "@grpc/grpc-js";
import type { ArgoFault__Output } from "@hmx/proto/gen/hmx/toolstack/v1/ArgoFault.js";
import type { FaultEvent as FaultEventMsg } from "@hmx/proto/gen/hmx/toolstack/v1/FaultEvent.js";
import type { FaultInfo } from "@hmx/proto/gen/hmx/toolstack/v1/FaultInfo.js";
import type { FaultSpec__Output } from "@hmx/proto/gen/hmx/toolstack/v1/FaultSpec.js";
import type { ToolstackHandlers } from "@hmx/proto/gen/hmx/toolstack/v1/Toolstack.js";
import type { WatchFaultsRequest__Output } from "@hmx/proto/gen/hmx/toolstack/v1/WatchFaultsRequest.js";
import type { FaultControl, FaultRecord, FaultRequest } from "../faults/fault-control.js";
import { FaultRequestError, toxicJson } from "../faults/toxic-spec.js";
import { GrpcError, type AdminAuth } from "./auth.js";

const STATUS_OF_HTTP: Readonly<Record<number, grpc.status>> = {
  400: grpc.status.INVALID_ARGUMENT,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.ALREADY_EXISTS,
  412: grpc.status.FAILED_PRECONDITION,
};

/** A refused fault request as the gRPC status that says the same. */
export function faultErrorStatus(err: FaultRequestError): GrpcError {
  return new GrpcError(STATUS_OF_HTTP[err.status] ?? grpc.status.INTERNAL, err.message);
}

/** The wire's Argo fault as the engine takes it: fields left at their zero value are unset. */
function decodeArgoFault(f: ArgoFault__Output): Record<string, unknown> {
  const body: Record<string, unknown> = { type: f.type, from: f.from };
  if (f.to.length > 0) body["to"] = f.to;
  if (f.bothWays) body["bothWays"] = true;
  if (f.show !== "") body["show"] = f.show;
  if (f.probability !== 0) body["probability"] = f.probability;
  if (f.delayMs !== 0) body["delayMs"] = f.delayMs;
  if (f.jitterMs !== 0) body["jitterMs"] = f.jitterMs;
  return body;
}

export function decodeFaultSpec(spec: FaultSpec__Output | null): FaultRequest {
  const durationMs = spec?.durationMs ?? 0;
  if (spec?.fault === "argo" && spec.argo) return { argo: decodeArgoFault(spec.argo), durationMs };
  if (spec?.fault === "link" && spec.link) {
    const { domain, down, toxicJson: text } = spec.link;
    let toxic: unknown;
    if (text !== "") {
      try {
        toxic = JSON.parse(text);
      } catch (err) {
        throw new GrpcError(
          grpc.status.INVALID_ARGUMENT,
          `link.toxic_json ${JSON.stringify(text.slice(0, 80))} is not JSON: ${(err as Error).message}`,
        );
      }
    }
    return { link: { domain, down, ...(toxic === undefined ? {} : { toxic }) }, durationMs };
  }
  throw new GrpcError(grpc.status.INVALID_ARGUMENT, "fault: expected an argo or a link fault");
}

export function encodeFaultRecord(record: FaultRecord): FaultInfo {
  if ("argo" in record) {
    const { type, from, to, bothWays, show, probability, delayMs, jitterMs } = record.argo;
    return {
      id: record.id,
      spec: {
        argo: {
          type,
          from: [...from],
          to: [...to],
          bothWays,
          show,
          probability,
          delayMs,
          jitterMs,
        },
        durationMs: record.durationMs,
      },
    };
  }
  const { domain, down, toxic } = record.link;
  return {
    id: record.id,
    spec: {
      link: {
        domain,
        down,
        toxicJson: toxic === undefined ? "" : JSON.stringify(toxicJson(toxic)),
      },
      durationMs: record.durationMs,
    },
  };
}

type FaultHandlers = Pick<
  ToolstackHandlers,
  "ApplyFault" | "ClearFaults" | "ListFaults" | "WatchFaults"
>;

/** The fault handlers, and a way to end every WatchFaults stream at shutdown. */
export interface FaultService {
  readonly handlers: FaultHandlers;
  endWatchers(code: grpc.status, details: string): void;
}

/** `wrap` adds admin auth and error mapping to a unary body (toolstack-service.ts). */
export function createFaultService(
  faults: FaultControl,
  auth: AdminAuth,
  wrap: <Req, Res>(body: (request: Req) => Res) => grpc.handleUnaryCall<Req, Res>,
): FaultService {
  const guard = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof FaultRequestError) throw faultErrorStatus(err);
      throw err;
    }
  };
  const watchers = new Set<(code: grpc.status, details: string) => void>();
  const handlers: FaultHandlers = {
    ApplyFault: wrap((r) => ({
      fault: encodeFaultRecord(guard(() => faults.apply(decodeFaultSpec(r.fault)))),
    })),
    ClearFaults: wrap((r) => ({ cleared: guard(() => faults.clear(r.ids)) })),
    ListFaults: wrap(() => ({ faults: faults.list().map(encodeFaultRecord) })),
    WatchFaults: (call: grpc.ServerWritableStream<WatchFaultsRequest__Output, FaultEventMsg>) => {
      try {
        auth.check(call.metadata);
      } catch (err) {
        call.emit("error", err);
        return;
      }
      // Fault events are rare (a person or a schedule makes them): no backpressure is needed.
      const unsubscribe = faults.onFaultEvent((e) => {
        call.write({
          kind: e.kind,
          action: e.action,
          target: e.target,
          id: e.id,
          detailJson: JSON.stringify(e.detail),
          timeMs: String(e.time),
        });
      });
      let ended = false;
      const cleanup = (): void => {
        if (ended) return;
        ended = true;
        unsubscribe();
        watchers.delete(end);
      };
      const end = (code: grpc.status, details: string): void => {
        if (ended) return;
        cleanup();
        call.emit("error", { code, details });
      };
      watchers.add(end);
      call.on("cancelled", cleanup);
      call.on("close", cleanup);
      call.on("error", cleanup);
    },
  };
  return {
    handlers,
    endWatchers(code, details) {
      for (const end of [...watchers]) end(code, details);
    },
  };
}
