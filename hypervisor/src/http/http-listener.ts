// SPDX-License-Identifier: Apache-2.0
/**
 * The harness HTTP listener (`--http-listen`, DESIGN §3.4): a control-side listener like the
 * toolstack's. `GET /healthz` answers anyone; every other route, the WebSocket upgrade
 * included, needs `Authorization: Bearer <admin token>`, checked by the toolstack's own
 * `AdminAuth` (constant time). Routes: `/metrics` (Prometheus text) and `/v1/history`, a
 * WebSocket carrying one history event per text frame (or, with `format=binary`, many per binary
 * frame: binary-history-sink.ts). The web dashboard's routes
 * (`/dashboard/`, `/v1/state`) are in `dashboard/`; its login session also opens `/v1/history`.
 */
import * as grpc from "@grpc/grpc-js";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { parseHostPort } from "@hmx/proto";
import type { AdminAuth } from "../grpc/auth.js";
import { HISTORY_CLOSE, type History } from "../observability/history.js";
import type { HmxMetrics } from "../observability/metrics.js";
import { HistoryQueryError, parseHistoryQuery, type HistoryQuery } from "./history-query.js";
import { binaryHistorySink } from "./binary-history-sink.js";
import { jsonHistorySink } from "./json-history-sink.js";
import { DashboardRoutes } from "./dashboard/dashboard-routes.js";
import { readState, type StateSources } from "./dashboard/state.js";

export interface HttpListenerOptions {
  /** "host:port"; port 0 picks one. */
  readonly address: string;
  readonly auth: AdminAuth;
  readonly metrics: HmxMetrics;
  readonly history: History;
  readonly log: Logger;
  /** False once the hypervisor is stopping: /healthz then answers 503. */
  readonly isServing: () => boolean;
  /** What the dashboard's `/v1/state` reads. */
  readonly state: StateSources;
}

export interface RunningHttpListener {
  /** The bound "host:port". */
  readonly address: string;
  close(): Promise<void>;
}

/** How long a closed subscriber that does not read its close frame keeps its socket. */
const CLOSE_GRACE_MS = 5000;

/** The admin token check of the toolstack, on an HTTP `Authorization` header's value. */
function isAdminHeader(auth: AdminAuth, header: string | undefined): boolean {
  const metadata = new grpc.Metadata();
  if (header !== undefined) metadata.set("authorization", header);
  try {
    auth.check(metadata);
    return true;
  } catch {
    return false;
  }
}

function isAdmin(auth: AdminAuth, req: IncomingMessage): boolean {
  return isAdminHeader(auth, req.headers.authorization);
}

function reply(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(`${JSON.stringify(body)}\n`);
}

/** Refuses an upgrade on the raw socket (no WebSocket exists yet). */
function refuseUpgrade(
  socket: Duplex,
  status: number,
  reason: string,
  message: string,
  extra = "",
): void {
  const body = `${JSON.stringify({ error: message })}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\n${extra}` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const UNAUTHORIZED = "missing or wrong admin token: send 'Authorization: Bearer <admin token>'";

export async function startHttpListener(o: HttpListenerOptions): Promise<RunningHttpListener> {
  const hostPort = parseHostPort(o.address);
  if (hostPort === undefined)
    throw new Error(`--http-listen ${JSON.stringify(o.address)}: expected HOST:PORT`);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
  const dashboard = new DashboardRoutes({
    isAdminToken: (token) => isAdminHeader(o.auth, `Bearer ${token}`),
    isAdminRequest: (req) => isAdmin(o.auth, req),
    readState: () => readState(o.state, o.history, o.metrics.registry),
    log: o.log.child({ component: "dashboard" }),
  });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://hmx");
    if (dashboard.handle(req, res, url.pathname)) return;
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply(
        res,
        405,
        { error: `method ${req.method ?? "?"} not allowed: every route is GET` },
        { allow: "GET, HEAD" },
      );
      return;
    }
    if (url.pathname === "/healthz") {
      const serving = o.isServing();
      reply(res, serving ? 200 : 503, { status: serving ? "SERVING" : "NOT_SERVING" });
      return;
    }
    if (url.pathname !== "/metrics" && url.pathname !== "/v1/history") {
      reply(res, 404, {
        error: `no route ${url.pathname}: try /healthz, /metrics, /v1/history, /v1/state or /dashboard/`,
      });
      return;
    }
    if (!isAdmin(o.auth, req)) {
      reply(res, 401, { error: UNAUTHORIZED }, { "www-authenticate": 'Bearer realm="hmx"' });
      return;
    }
    if (url.pathname === "/v1/history") {
      reply(
        res,
        426,
        { error: "/v1/history is a WebSocket: send an Upgrade: websocket request" },
        { upgrade: "websocket" },
      );
      return;
    }
    o.metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": o.metrics.registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        o.log.error({ err }, "metrics collection failed");
        reply(res, 500, { error: "metrics collection failed" });
      },
    );
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://hmx");
    if (url.pathname !== "/v1/history") {
      refuseUpgrade(socket, 404, "Not Found", `no WebSocket at ${url.pathname}: use /v1/history`);
      return;
    }
    if (!isAdmin(o.auth, req) && !dashboard.allows(req)) {
      refuseUpgrade(
        socket,
        401,
        "Unauthorized",
        UNAUTHORIZED,
        'www-authenticate: Bearer realm="hmx"\r\n',
      );
      return;
    }
    let query: HistoryQuery;
    try {
      query = parseHistoryQuery(url.searchParams);
      const newest = o.history.nextSeq - 1;
      if (query.since !== undefined && query.since > newest)
        throw new HistoryQueryError(
          `since ${query.since} is beyond the newest event (${newest}): is this seq from another run?`,
        );
    } catch (err) {
      if (!(err instanceof HistoryQueryError)) throw err;
      refuseUpgrade(socket, 400, "Bad Request", err.message);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const { format, ...subscribe } = query;
      const sink =
        format === "binary"
          ? binaryHistorySink(ws, socket, CLOSE_GRACE_MS)
          : jsonHistorySink(ws, socket, CLOSE_GRACE_MS);
      const subscription = o.history.subscribe(sink, { ...subscribe, closeWhenBehind: true });
      ws.on("close", () => {
        subscription.cancel();
      });
      ws.on("error", (err) => {
        o.log.debug({ err }, "history subscriber error");
      });
      // Subscribers only listen; anything they send is ignored.
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => {
      reject(new Error(`cannot listen on ${o.address}: ${err.message}`, { cause: err }));
    });
    server.listen(hostPort.port, hostPort.host.replace(/^\[|\]$/g, ""), () => {
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : hostPort.port;
  const address = `${hostPort.host}:${port}`;

  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        o.history.closeAll(HISTORY_CLOSE.GOING_AWAY, "hypervisor is shutting down");
        server.close();
        server.closeAllConnections();
        // Give the close frames a moment to leave, then cut whoever is still there.
        setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          wss.close(() => {
            resolve();
          });
        }, 200);
      }),
  };
}
