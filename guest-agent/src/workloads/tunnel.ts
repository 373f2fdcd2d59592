// SPDX-License-Identifier: Apache-2.0
/**
 * The tunnel workload: unmodified programs talking across guests over Argo streams, the shape
 * of socat and OpenXT's argo-proxy. The entry side listens on a local TCP port or Unix socket
 * and carries each accepted connection over its own Argo stream to a port of another domain;
 * the exit side accepts Argo streams on a port and connects each one onward to a local TCP port
 * or Unix socket. Bytes are piped both ways with back-pressure, a half-close (FIN) crosses as a
 * half-close, and a reset on either side resets the other.
 *
 * Refusals are said once, in a log line that names the peer and port: no listener, the
 * listener's connection limit, MAC or the firewall denying the pair. Each connection's bytes
 * show in the guest's stats lines while it is open; totals stay after it closes.
 */
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { once } from "node:events";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { addrString } from "../libargo/errors.js";
import { ArgoStreamDuplex } from "../libargo/stream/duplex.js";
import { connectStream } from "../libargo/stream/connector.js";
import { StreamListener } from "../libargo/stream/listener.js";
import type { StreamConnection } from "../libargo/stream/connection.js";
import { sleepUnlessAborted, type WorkloadBaseOptions } from "./common.js";
import type { FleetLogger, FleetPeer } from "./fleet.js";
import type { LocalAddress, TunnelSpec } from "./tunnel-flags.js";

export interface TunnelOptions extends WorkloadBaseOptions {
  readonly spec: TunnelSpec;
  /** Exit side: the only domain that may connect; default any (wildcard ring, needs mac-permissive). */
  readonly partner?: number;
  /** Resolves a domain name in `--to` (ListPeers). */
  readonly listPeers?: () => Promise<readonly FleetPeer[]>;
  readonly log?: FleetLogger;
}

/** One connection as the stats line shows it. */
export interface TunnelConnectionStats {
  readonly id: number;
  /** The Argo peer: `vm3:0x1f`. */
  readonly peer: string;
  /** Bytes from the local side into Argo, and from Argo to the local side. */
  toArgo: number;
  fromArgo: number;
}

export interface TunnelStats {
  mode: "entry" | "exit" | "";
  active: number;
  opened: number;
  closed: number;
  /** Connections that failed: refused, denied, reset, local connect failure. */
  failed: number;
  /** Local connections turned away at the connection limit (entry side). */
  overLimit: number;
  bytesToArgo: number;
  bytesFromArgo: number;
  lastError: string;
  connections: TunnelConnectionStats[];
}

export function newTunnelStats(): TunnelStats {
  return {
    mode: "",
    active: 0,
    opened: 0,
    closed: 0,
    failed: 0,
    overLimit: 0,
    bytesToArgo: 0,
    bytesFromArgo: 0,
    lastError: "",
    connections: [],
  };
}

/** Runs the tunnel until `options.signal` aborts. */
export async function runTunnel(
  endpoint: ArgoEndpoint,
  options: TunnelOptions,
  stats: TunnelStats,
): Promise<void> {
  stats.mode = options.spec.mode;
  if (options.spec.mode === "entry") await runEntry(endpoint, options, options.spec, stats);
  else await runExit(endpoint, options, options.spec, stats);
}

type EntrySpec = Extract<TunnelSpec, { mode: "entry" }>;
type ExitSpec = Extract<TunnelSpec, { mode: "exit" }>;

/**
 * The domid `--to` names. A domain name is looked up with ListPeers; a domain not there yet (a
 * fleet starts in any order: the client's container may enrol before the server's) is looked
 * for again every `retryMs` until it appears (also after a failed lookup), saying so once.
 * Undefined if `signal` aborts first.
 */
export async function resolvePeer(
  options: Pick<TunnelOptions, "listPeers" | "log" | "signal">,
  peer: number | string,
  retryMs = 1000,
): Promise<number | undefined> {
  if (typeof peer === "number") return peer;
  const listPeers = options.listPeers;
  if (listPeers === undefined) throw new Error(`--to: cannot look up the domain "${peer}" here`);
  for (let attempt = 0; ; attempt++) {
    // A failed lookup (the hypervisor briefly unreachable) is looked at again like a miss.
    let peers: readonly FleetPeer[] = [];
    let failure: string | undefined;
    try {
      peers = await listPeers();
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    }
    const found = peers.find((p) => p.name === peer);
    if (found !== undefined) return found.domid;
    if (attempt === 0) {
      options.log?.warn(
        {
          to: peer,
          peers: peers.map((p) => p.name),
          ...(failure === undefined ? {} : { err: failure }),
        },
        "tunnel waiting for its peer domain to appear",
      );
    }
    if (!(await sleepUnlessAborted(retryMs, options.signal))) return undefined;
  }
}

async function runEntry(
  endpoint: ArgoEndpoint,
  options: TunnelOptions,
  spec: EntrySpec,
  stats: TunnelStats,
): Promise<void> {
  const domainId = await resolvePeer(options, spec.to.peer);
  if (domainId === undefined) return; // stopped while waiting for the peer
  const target = { domainId, aport: spec.to.aport };
  const server = createServer({ allowHalfOpen: true }, (local) => {
    if (stats.active >= spec.maxConnections) {
      stats.overLimit++;
      options.log?.warn(
        { limit: spec.maxConnections, to: addrString(target) },
        "tunnel at its connection limit: local connection closed",
      );
      local.destroy();
      return;
    }
    const track = open(stats, addrString(target));
    local.pause(); // nothing is read until the Argo stream is up
    connectStream(endpoint, target, { signal: options.signal }).then(
      (conn) => {
        splice(local, conn, track, stats, options);
      },
      (err: unknown) => {
        fail(stats, track, err, options, "tunnel connection failed");
        local.destroy();
      },
    );
  });
  await listenLocal(server, spec.listen);
  options.onReady?.({ aport: spec.to.aport, partner: target.domainId });
  options.log?.info(
    { listen: describeLocal(spec.listen), to: addrString(target) },
    "tunnel listening",
  );
  await once(options.signal, "abort").catch(() => undefined);
  server.close();
}

async function runExit(
  endpoint: ArgoEndpoint,
  options: TunnelOptions,
  spec: ExitSpec,
  stats: TunnelStats,
): Promise<void> {
  const listener = await StreamListener.listen(endpoint, {
    aport: spec.serve,
    maxConnections: spec.maxConnections,
    ...(options.partner === undefined ? {} : { partner: options.partner }),
  });
  options.onReady?.({ aport: listener.address.aport, partner: listener.partner });
  options.log?.info(
    { serve: addrString(listener.address), connect: describeLocal(spec.connect) },
    "tunnel serving",
  );
  const stop = (): void => {
    void listener.abort();
  };
  options.signal.addEventListener("abort", stop, { once: true });
  try {
    for await (const conn of listener) {
      const track = open(stats, addrString(conn.peer));
      const local = netConnect({ ...toNetOptions(spec.connect), allowHalfOpen: true });
      local.once("connect", () => {
        splice(local, conn, track, stats, options);
      });
      local.once("error", (err) => {
        if (track.spliced) return; // splice reports its own errors
        conn.destroy(); // the remote client sees a reset
        fail(stats, track, err, options, `tunnel could not reach ${describeLocal(spec.connect)}`);
      });
    }
  } finally {
    options.signal.removeEventListener("abort", stop);
    await listener.abort();
  }
}

interface Track {
  readonly conn: TunnelConnectionStats;
  spliced: boolean;
  done: boolean;
}

function open(stats: TunnelStats, peer: string): Track {
  stats.opened++;
  stats.active++;
  const conn: TunnelConnectionStats = { id: stats.opened, peer, toArgo: 0, fromArgo: 0 };
  stats.connections.push(conn);
  return { conn, spliced: false, done: false };
}

function close(stats: TunnelStats, track: Track): void {
  if (track.done) return;
  track.done = true;
  stats.active--;
  stats.closed++;
  const i = stats.connections.indexOf(track.conn);
  if (i !== -1) stats.connections.splice(i, 1);
}

function fail(
  stats: TunnelStats,
  track: Track,
  err: unknown,
  options: TunnelOptions,
  msg: string,
): void {
  if (track.done) return;
  stats.failed++;
  stats.lastError = err instanceof Error ? err.message : String(err);
  options.log?.warn({ err: stats.lastError, peer: track.conn.peer, id: track.conn.id }, msg);
  close(stats, track);
}

/**
 * Pipes a local socket and an Argo stream into each other. `pipe` carries each end-of-stream
 * over as a half-close; an error on one side destroys the other (a reset crosses as a reset).
 */
function splice(
  local: Socket,
  conn: StreamConnection,
  track: Track,
  stats: TunnelStats,
  options: TunnelOptions,
): void {
  track.spliced = true;
  // A request/response protocol must not wait on Nagle: the Argo side already batches.
  local.setNoDelay(true);
  const argo = new ArgoStreamDuplex(conn);
  local.on("data", (b: Buffer) => {
    track.conn.toArgo += b.length;
    stats.bytesToArgo += b.length;
  });
  argo.on("data", (b: Buffer) => {
    track.conn.fromArgo += b.length;
    stats.bytesFromArgo += b.length;
  });
  local.pipe(argo);
  argo.pipe(local);
  local.resume();
  argo.on("error", (err) => {
    fail(stats, track, err, options, "tunnel stream failed");
    local.destroy();
  });
  local.on("error", (err) => {
    fail(stats, track, err, options, "tunnel local connection failed");
    argo.destroy();
  });
  let closes = 0;
  const closed = (): void => {
    if (++closes === 2) close(stats, track);
  };
  local.once("close", closed);
  argo.once("close", closed);
}

function toNetOptions(a: LocalAddress): { host: string; port: number } | { path: string } {
  return a.kind === "tcp" ? { host: a.host, port: a.port } : { path: a.path };
}

function describeLocal(a: LocalAddress): string {
  return a.kind === "tcp" ? `tcp:${a.host}:${a.port}` : `unix:${a.path}`;
}

async function listenLocal(server: Server, a: LocalAddress): Promise<void> {
  server.listen(toNetOptions(a));
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([err]: unknown[]) => {
      throw new Error(
        `--listen ${describeLocal(a)}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }),
  ]);
}
