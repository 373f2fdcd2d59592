// SPDX-License-Identifier: Apache-2.0
/**
 * The guest listener when link faults are on: a plain `net.Server` on the address the user gave
 * (TCP or a Unix socket) that relays each accepted connection, through a fault pipe per
 * direction, to the real gRPC guest server on a private loopback port. Each relayed connection
 * reaches the gRPC server from its own local port, so a call's `getPeer()` names the connection
 * it came on, which is how a connection is tied to the domain that authenticates on it.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { FaultPipe } from "./fault-pipe.js";
import { resetLink } from "./reset-link.js";
import type { ConnectionControl } from "./toxic-stages.js";
import type { ToxicStream } from "./toxic-spec.js";

/** How long a connection closed by a toxic may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

export class RelayedConnection {
  /** Guest to hypervisor. */
  readonly upstream: FaultPipe;
  /** Hypervisor to guest. */
  readonly downstream: FaultPipe;
  /** The domain whose link this is, once a call on it authenticated. */
  link: string | undefined;
  closed = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    readonly client: Socket,
    readonly server: Socket,
    now: () => number,
  ) {
    this.upstream = new FaultPipe(client, server, now);
    this.downstream = new FaultPipe(server, client, now);
    for (const socket of [client, server]) {
      socket
        .on("error", () => {
          this.destroy();
        })
        .on("close", () => {
          this.destroy();
        });
    }
  }

  pipe(stream: ToxicStream): FaultPipe {
    return stream === "upstream" ? this.upstream : this.downstream;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** What a toxic on `stream` may do: close both ways, or reset that direction's output. */
  control(stream: ToxicStream): ConnectionControl {
    return {
      close: () => {
        this.stopPipes();
        for (const socket of [this.client, this.server]) socket.end();
        setTimeout(() => {
          this.destroy();
        }, CLOSE_GRACE_MS).unref();
      },
      reset: () => {
        const [output, input] =
          stream === "downstream" ? [this.client, this.server] : [this.server, this.client];
        this.stopPipes();
        resetLink(output);
        input.destroy();
      },
    };
  }

  /** The link goes down under this connection: the guest sees a reset. */
  drop(): void {
    this.stopPipes();
    resetLink(this.client);
    this.server.destroy();
  }

  private stopPipes(): void {
    this.upstream.stop();
    this.downstream.stop();
  }

  private destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPipes();
    this.client.destroy();
    this.server.destroy();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

export class LinkRelay {
  private readonly server: Server;
  private readonly byPeer = new Map<string, RelayedConnection>();

  constructor(
    private readonly target: { readonly host: string; readonly port: number },
    private readonly now: () => number = Date.now,
  ) {
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
      this.accept(client);
    });
  }

  /** Listens on "host:port" or "unix:/path"; resolves with the bound address. */
  listen(address: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", (err) => {
        reject(new Error(`cannot listen on ${address}: ${err.message}`, { cause: err }));
      });
      const done = () => {
        const bound = this.server.address();
        resolve(
          typeof bound === "string" || bound === null
            ? address
            : `${address.slice(0, address.lastIndexOf(":"))}:${bound.port}`,
        );
      };
      if (address.startsWith("unix:")) this.server.listen(address.slice("unix:".length), done);
      else {
        const i = address.lastIndexOf(":");
        const host = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
        this.server.listen(Number(address.slice(i + 1)), host, done);
      }
    });
  }

  /** The relayed connection a gRPC call came on, from its `getPeer()`. */
  connectionOf(peer: string): RelayedConnection | undefined {
    return this.byPeer.get(peer);
  }

  get size(): number {
    return this.byPeer.size;
  }

  private accept(client: Socket): void {
    const server = createConnection({ ...this.target, allowHalfOpen: true, noDelay: true });
    const connection = new RelayedConnection(client, server, this.now);
    server.once("connect", () => {
      if (connection.closed) return;
      const peer = `${server.localAddress}:${server.localPort}`;
      this.byPeer.set(peer, connection);
      connection.onClose(() => this.byPeer.delete(peer));
    });
  }

  /** Stops accepting and cuts every relayed connection. */
  close(): Promise<void> {
    for (const connection of this.byPeer.values()) connection.drop();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}
