// SPDX-License-Identifier: Apache-2.0
/**
 * The connection flood: a peer opens many HTTP/2 connections and never authenticates on them
 * (no call at all, or only calls with a forged credential), to hold the service's per-connection
 * memory. A sound service refuses connections past its limit of unauthenticated ones, closes the
 * rest when their time runs out, and closes one that keeps making refused calls.
 */
import { parseHostPort } from "@hmx/proto";
import { connect, type ClientHttp2Session } from "node:http2";
import { connect as netConnect, type Socket } from "node:net";

/** A TCP connection to "host:port" from a chosen local address. */
function fromAddress(address: string, localAddress: string): Socket {
  const hostPort = parseHostPort(address);
  if (hostPort === undefined) throw new Error(`${address} is not host:port`);
  return netConnect({ ...hostPort, localAddress });
}

/** One attacking connection and when it ended. */
export interface FloodConnection {
  readonly session: ClientHttp2Session;
  /** Resolves when the connection is closed, by the service or by `close()`. */
  readonly closed: Promise<void>;
  /** Whether it has closed yet. */
  isClosed(): boolean;
}

export interface ConnectionFlood {
  readonly connections: readonly FloodConnection[];
  /** Connections the service has closed (or refused) so far. */
  closedCount(): number;
  close(): void;
}

/**
 * Opens `count` connections to "host:port" that make no call; resolves once each is up or gone.
 * `localAddress` picks the source address (e.g. 127.0.0.2, to be a second peer on loopback).
 */
export async function startConnectionFlood(
  address: string,
  count: number,
  localAddress?: string,
): Promise<ConnectionFlood> {
  const connections: FloodConnection[] = [];
  const settled: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const session = connect(
      `http://${address}`,
      localAddress === undefined
        ? {}
        : { createConnection: () => fromAddress(address, localAddress) },
    );
    session.on("error", () => undefined);
    let closed = false;
    const closedPromise = new Promise<void>((resolve) =>
      session.once("close", () => {
        closed = true;
        resolve();
      }),
    );
    settled.push(
      Promise.race([
        new Promise<void>((r) =>
          session.once("connect", () => {
            r();
          }),
        ),
        closedPromise,
      ]),
    );
    connections.push({ session, closed: closedPromise, isClosed: () => closed });
  }
  await Promise.all(settled);
  return {
    connections,
    closedCount: () => connections.filter((c) => c.isClosed()).length,
    close() {
      for (const c of connections) c.session.destroy();
    },
  };
}
