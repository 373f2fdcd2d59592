// SPDX-License-Identifier: Apache-2.0
/**
 * Admission: nothing is buffered for a peer that has not proved who it is (docs/security.md).
 *
 * grpc-js reads and decompresses a request before its handler runs, so a handler that checks the
 * credential is too late: a peer with no credential could park gzip bombs in the service. Here
 * the credential is checked by a server interceptor when the call's metadata arrives. A call that
 * fails the check is answered UNAUTHENTICATED at once and the handler never starts, so grpc-js
 * never calls `startRead()` on it: its HTTP/2 stream stays paused and no byte of its body is read
 * or decompressed (grpc-js `BaseServerInterceptingCall` pauses the stream until `startRead`).
 *
 * Around that, each listener bounds what a peer gets before it authenticates: concurrent streams
 * per connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS), decompressed request size, a few KiB
 * for the calls that need no domain credential (health, Enrol), how many connections may be open
 * without having carried an authenticated call, and how long such a connection may live. Those
 * slots are shared fairly between source addresses: when they are full, a newcomer from an
 * address holding fewer of them than another address does takes the oldest slot of the address
 * holding most, so one address flooding the listener cannot lock everyone else out.
 */
import * as grpc from "@grpc/grpc-js";
import { constants as http2 } from "node:http2";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import type { DomainRegistry } from "../domain/domain-registry.js";
import type { EnrolmentService } from "../fleet/enrolment.js";
import { type AdminAuth, GrpcError, authenticateGuest, bearerToken } from "./auth.js";

/** What an admitted call may do. */
export interface Admitted {
  /** The caller proved an identity (domain credential, enrolment token, admin token). */
  readonly authenticated: boolean;
  /** Read at most `SMALL_REQUEST_MAX_BYTES` of it (health checks, Enrol). */
  readonly smallRequest: boolean;
}

/** Decides on a call from its method path and metadata alone; throws GrpcError to refuse it. */
export type AdmitCall = (path: string, metadata: grpc.Metadata) => Admitted;

/** Calls anyone may make (health probes and reflection clients carry no credential). */
export const OPEN_CALL: Admitted = { authenticated: false, smallRequest: true };
/** A call by an authenticated caller, read up to the listener's request limit. */
export const AUTHENTICATED_CALL: Admitted = { authenticated: true, smallRequest: false };

/**
 * Open on both listeners: health (Docker and Kubernetes probes have no token) and server
 * reflection (it describes only the public .proto contracts, and grpcurl and other reflection
 * clients should list and call the services without the files, DESIGN §3.4). Both read small
 * requests only.
 */
export function isOpenMethod(path: string): boolean {
  return (
    path.startsWith("/grpc.health.v1.Health/") ||
    path.startsWith("/grpc.reflection.v1.ServerReflection/") ||
    path.startsWith("/grpc.reflection.v1alpha.ServerReflection/")
  );
}

/** The one guest method whose bearer is an enrolment token rather than a domain credential. */
export const ENROL_METHOD = "/hmx.argo.v1.Hypervisor/Enrol";

/**
 * The guest listener's admission (grpc/admission.ts): health and reflection are open; Enrol needs a template's
 * enrolment token and reads a small request; every other call needs a live domain's credential.
 */
export function guestAdmission(registry: DomainRegistry, enrolment: EnrolmentService): AdmitCall {
  return (path, metadata) => {
    if (isOpenMethod(path)) return OPEN_CALL;
    if (path === ENROL_METHOD) {
      const token = bearerToken(metadata);
      if (token === undefined || !enrolment.isToken(token)) {
        throw new GrpcError(grpc.status.UNAUTHENTICATED, "missing or unknown enrolment token");
      }
      return { authenticated: true, smallRequest: true };
    }
    authenticateGuest(registry, metadata);
    return AUTHENTICATED_CALL;
  };
}

/** The control listener's admission: health and reflection are open, everything else needs the admin token. */
export function controlAdmission(auth: AdminAuth): AdmitCall {
  return (path, metadata) => {
    if (isOpenMethod(path)) return OPEN_CALL;
    auth.check(metadata);
    return AUTHENTICATED_CALL;
  };
}

/**
 * Largest request, after decompression, of a call that needs no domain credential: a health
 * check names a service, Enrol an instance and its secret; none comes near 4 KiB.
 */
export const SMALL_REQUEST_MAX_BYTES = 4096;

/** The limits of one listener (flags in config.ts; defaults in docs/security.md). */
export interface AdmissionLimits {
  /** Largest request message after decompression (grpc.max_receive_message_length). */
  readonly maxRequestBytes: number;
  /** Most concurrent calls on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxStreamsPerConnection: number;
  /** Most connections open at once that have not carried an authenticated call. */
  readonly maxUnauthenticatedConnections: number;
  /** A connection that carried no authenticated call within this time is closed. */
  readonly unauthenticatedConnectionMs: number;
  /** A connection that has not authenticated is closed at this many refused calls. */
  readonly maxRefusedCallsPerConnection: number;
}

/** What a listener refused so far (logged when the hypervisor stops). */
export interface AdmissionCounters {
  /** Calls answered UNAUTHENTICATED from their metadata, before any body was read. */
  refusedCalls: number;
  /** Connections closed on arrival because too many unauthenticated ones were open. */
  refusedConnections: number;
  /**
   * Unauthenticated connections closed to make room for a newcomer from an address holding
   * fewer slots (per-address fairness).
   */
  evictedConnections: number;
  /** Unauthenticated connections closed when their time ran out. */
  expiredConnections: number;
  /** Unauthenticated connections closed for making too many refused calls. */
  closedForRefusals: number;
}

/** grpc-js's connection identity of a call; the socket it came on is keyed the same way. */
function connectionKey(remoteAddress: string | undefined, remotePort: number | undefined): string {
  return `${remoteAddress ?? "local"}|${remotePort ?? "?"}`;
}

/**
 * The fields of grpc-js's `BaseServerInterceptingCall` (1.14) that set how much of a request it
 * reads. grpc-js has one limit per server; the open calls need a smaller one, so the interceptor
 * lowers it on that call only; tests/src/hostile/pre-auth-memory.test.ts fails if a grpc-js
 * upgrade renames them (the open calls then fail closed).
 */
interface ReadLimits {
  maxReceiveMessageSize: number;
  decoder: { maxReadMessageLength: number };
}

function hasReadLimits(call: unknown): call is ReadLimits {
  const c = call as Partial<ReadLimits> | null;
  return (
    typeof c?.maxReceiveMessageSize === "number" &&
    typeof c.decoder?.maxReadMessageLength === "number"
  );
}

/**
 * grpc-js's HTTP/2 stream of a call. After a refusal the stream must be reset: grpc-js answers
 * (trailers only) but leaves the stream half-open until the peer ends it, and a peer that never
 * does keeps it counted against the connection's streams and held in memory (about 12 KiB each).
 */
interface HasStream {
  stream: { close(code?: number): void; closed: boolean; session?: { close(): void } };
}

function hasStream(call: unknown): call is HasStream {
  const c = call as Partial<HasStream> | null;
  return typeof c?.stream?.close === "function";
}

/** Lowers the read limit (wire frame and decompressed size) of one call. */
function limitRead(call: grpc.ServerInterceptingCallInterface, maxBytes: number): boolean {
  if (!hasReadLimits(call)) return false;
  call.maxReceiveMessageSize = maxBytes;
  call.decoder.maxReadMessageLength = maxBytes;
  return true;
}

/**
 * One listener's admission: the interceptor that checks each call's metadata, and the gate that
 * bounds connections which have not authenticated. Build it, pass `serverOptions()` to the
 * `grpc.Server`, then `listen()`.
 */
export class Admission {
  readonly counters: AdmissionCounters = {
    refusedCalls: 0,
    refusedConnections: 0,
    evictedConnections: 0,
    expiredConnections: 0,
    closedForRefusals: 0,
  };
  /** Unauthenticated connections by key, each with the timer that closes it. */
  readonly #pending = new Map<string, { socket: Socket; timer: NodeJS.Timeout; refused: number }>();
  readonly #sockets = new Set<Socket>();
  #netServer: NetServer | undefined;
  #nextLocalId = 1;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly admit: AdmitCall,
  ) {}

  /** Options for the `grpc.Server` of this listener. */
  serverOptions(): grpc.ServerOptions {
    return {
      "grpc.max_receive_message_length": this.limits.maxRequestBytes,
      "grpc.max_concurrent_streams": this.limits.maxStreamsPerConnection,
      interceptors: [this.#interceptor],
    };
  }

  /**
   * Listens on "host:port" (port 0 picks one) or "unix:/path" and feeds each accepted socket to
   * `server` (grpc-js's connection injector), so that sockets can be counted and timed before
   * gRPC sees them. Resolves with the bound address.
   */
  async listen(server: grpc.Server, address: string): Promise<string> {
    const inject = this.injector(server);
    const netServer = createServer({ noDelay: true }, inject);
    this.#netServer = netServer;
    const unix = address.startsWith("unix:");
    const hostPort = /^(.*):(\d+)$/.exec(address);
    const host = (hostPort?.[1] ?? "").replace(/^\[(.*)\]$/, "$1");
    await new Promise<void>((resolve, reject) => {
      netServer.once("error", (err) => {
        reject(new Error(`cannot listen on ${address}: ${err.message}`, { cause: err }));
      });
      if (unix) netServer.listen(address.slice("unix:".length), resolve);
      else netServer.listen(Number(hostPort?.[2] ?? "0"), host, resolve);
    });
    const bound = netServer.address();
    if (unix || bound === null || typeof bound === "string") return address;
    return `${address.slice(0, address.lastIndexOf(":"))}:${bound.port}`;
  }

  /**
   * Feeds sockets accepted elsewhere (the link-fault relay's) to `server` through this gate,
   * counted and timed as `listen()`'s own are.
   */
  injector(server: grpc.Server): (socket: Socket) => void {
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    return (socket) => {
      if (this.#accept(socket)) injector.injectConnection(socket);
    };
  }

  /** Stops accepting and closes what is still open (after grpc-js's own shutdown). */
  close(): void {
    this.#netServer?.close();
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    for (const socket of this.#sockets) socket.destroy();
  }

  /** A new socket: counted as unauthenticated until a call on it authenticates. */
  #accept(socket: Socket): boolean {
    if (this.#pending.size >= this.limits.maxUnauthenticatedConnections) {
      const evict = this.#slotToFreeFor(socket.remoteAddress);
      if (evict === undefined) {
        this.counters.refusedConnections++;
        socket.destroy();
        return false;
      }
      this.counters.evictedConnections++;
      this.#pending.get(evict)?.socket.destroy();
      this.#release(evict);
    }
    // A Unix socket has no remote port; give it one of its own so its calls find it again.
    if (socket.remotePort === undefined) {
      Object.defineProperty(socket, "remotePort", { value: -this.#nextLocalId++ });
    }
    const key = connectionKey(socket.remoteAddress, socket.remotePort);
    const timer = setTimeout(() => {
      this.counters.expiredConnections++;
      socket.destroy();
    }, this.limits.unauthenticatedConnectionMs);
    timer.unref();
    this.#pending.set(key, { socket, timer, refused: 0 });
    this.#sockets.add(socket);
    socket.once("close", () => {
      this.#sockets.delete(socket);
      this.#release(key);
    });
    return true;
  }

  /**
   * The key of the slot a newcomer from `address` may take when all are full: the oldest
   * connection of the address holding most slots, if that address holds at least two more than
   * `address` does (so two flooding addresses settle on equal shares instead of taking turns).
   * Unix-socket peers have no address to tell them apart: they never evict.
   */
  #slotToFreeFor(address: string | undefined): string | undefined {
    if (address === undefined) return undefined;
    const held = new Map<string, { count: number; oldest: string }>();
    for (const [key, entry] of this.#pending) {
      const from = entry.socket.remoteAddress;
      if (from === undefined) continue;
      const h = held.get(from);
      if (h === undefined) held.set(from, { count: 1, oldest: key });
      else h.count++;
    }
    let top: { count: number; oldest: string } | undefined;
    for (const h of held.values()) if (top === undefined || h.count > top.count) top = h;
    const mine = held.get(address)?.count ?? 0;
    return top !== undefined && top.count >= mine + 2 ? top.oldest : undefined;
  }

  /** The connection carried an authenticated call, or closed: it is no longer counted. */
  #release(key: string): void {
    const entry = this.#pending.get(key);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.#pending.delete(key);
  }

  /**
   * Counts a refused call against its connection if that has not authenticated; at the limit the
   * connection is closed with GOAWAY (in-flight answers still reach the peer), then cut.
   */
  #refused(call: grpc.ServerInterceptingCallInterface): void {
    const info = call.getConnectionInfo();
    const entry = this.#pending.get(connectionKey(info.remoteAddress, info.remotePort));
    if (entry === undefined || ++entry.refused !== this.limits.maxRefusedCallsPerConnection) return;
    this.counters.closedForRefusals++;
    if (hasStream(call) && call.stream.session !== undefined) call.stream.session.close();
    else entry.socket.end();
  }

  readonly #interceptor: grpc.ServerInterceptor = (method, call) => {
    const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, proceed) => {
            let admitted: Admitted;
            try {
              admitted = this.admit(method.path, metadata);
            } catch (err) {
              // Refused before the handler starts: nothing calls startRead, no body is read.
              this.counters.refusedCalls++;
              const status =
                err instanceof GrpcError
                  ? err
                  : new GrpcError(grpc.status.INTERNAL, "internal error");
              intercepting.sendStatus({ code: status.code, details: status.details });
              // RST_STREAM(NO_ERROR) after the trailers, as the gRPC spec has a server do when
              // it answers before the request ended: the stream is gone, not parked.
              if (hasStream(call) && !call.stream.closed) call.stream.close(http2.NGHTTP2_NO_ERROR);
              this.#refused(call);
              return;
            }
            if (admitted.smallRequest && !limitRead(call, SMALL_REQUEST_MAX_BYTES)) {
              // Fail closed: without the smaller limit an open call could carry a bomb.
              intercepting.sendStatus({
                code: grpc.status.INTERNAL,
                details: "this grpc-js cannot limit a request's size; open calls are refused",
              });
              return;
            }
            if (admitted.authenticated) {
              const info = call.getConnectionInfo();
              this.#release(connectionKey(info.remoteAddress, info.remotePort));
            }
            proceed(metadata);
          },
        });
      },
    });
    return intercepting;
  };
}
