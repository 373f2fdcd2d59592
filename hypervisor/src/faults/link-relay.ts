// SPDX-License-Identifier: Apache-2.0
/**
 * The guest listener when link faults are on: a plain `net.Server` on the address the user gave
 * (TCP or a Unix socket) that relays each accepted connection, through a fault pipe per
 * direction, to the real gRPC guest server.
 *
 * The hop to the gRPC server is a private Unix socket (in a directory only this user can open),
 * not loopback TCP: the relay's write into loopback TCP was its largest native cost in profiles,
 * and a Unix socket spends less kernel time per chunk (the total CPU per call moved within the
 * noise: docs/chaos.md, "Idle cost"); no other user can reach the gRPC server past the faults
 * either. Each relayed connection first sends its
 * 8-byte id; the private end that
 * carries it is given the guest's address and port (or, for a Unix-socket guest, "unix" and a
 * port of its own) and handed to the gRPC server (grpc-js's connection injector, through
 * admission). A call's `getPeer()` then names the relayed connection it came on, which is how
 * a connection is tied to the domain that authenticates on it.
 */
import { rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaultPipe } from "./fault-pipe.js";
import { makeHopDir } from "./hop-dir.js";
import { resetLink } from "./reset-link.js";
import type { ConnectionControl } from "./toxic-stages.js";
import type { ToxicStream } from "./toxic-spec.js";

/** How long a connection closed by a toxic may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 1000;
/** Bytes of the id a relayed connection sends first on its private hop. */
const ID_BYTES = 8;

/** Hands an accepted connection to the gRPC server (admission's injector). */
export type InjectConnection = (socket: Socket) => void;

export class RelayedConnection {
  /** Guest to hypervisor. */
  readonly upstream: FaultPipe;
  /** Hypervisor to guest. */
  readonly downstream: FaultPipe;
  /** The domain whose link this is, once a call on it authenticated. */
  link: string | undefined;
  /** The peer address and port the gRPC server sees this connection come from. */
  identity = { remoteAddress: "", remotePort: 0 };
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
  private readonly hop: Server;
  private readonly hopDir: string;
  private readonly hopPath: string;
  private nextId = 1;
  /** Relayed connections whose private end has not been accepted yet, by id. */
  private readonly awaitingHop = new Map<number, RelayedConnection>();
  private readonly byPeer = new Map<string, RelayedConnection>();
  /** Hop ends whose id has not arrived yet (cut at close, so none holds the hop open). */
  private readonly unnamedEnds = new Set<Socket>();

  constructor(
    private readonly inject: InjectConnection,
    private readonly now: () => number = Date.now,
  ) {
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
      this.accept(client);
    });
    // A 0700 directory: no other user can connect to the hop (hop-dir.ts).
    this.hopDir = makeHopDir(tmpdir());
    this.hopPath = join(this.hopDir, "relay.sock");
    // Each end is named by the id it sends first, then handed to gRPC (acceptHop).
    this.hop = createServer((end) => {
      this.acceptHop(end);
    });
  }

  /** The private address the relay forwards to ("unix:/path"). */
  get upstreamAddress(): string {
    return `unix:${this.hopPath}`;
  }

  /** Listens on "host:port" or "unix:/path"; resolves with the bound address. */
  async listen(address: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.hop.once("error", (err) => {
        reject(
          new Error(`cannot listen on ${this.upstreamAddress}: ${err.message}`, { cause: err }),
        );
      });
      this.hop.listen(this.hopPath, resolve);
    });
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
    const id = this.nextId++;
    const server = createConnection({ path: this.hopPath, allowHalfOpen: true });
    // The id goes first: the pipes write nothing before the guest's first bytes arrive.
    const head = Buffer.alloc(ID_BYTES);
    head.writeUIntBE(id, ID_BYTES - 6, 6);
    server.write(head);
    const connection = new RelayedConnection(client, server, this.now);
    this.awaitingHop.set(id, connection);
    // The guest's address when it has one, so admission's per-address fairness sees it.
    const remoteAddress = client.remoteAddress ?? "unix";
    const remotePort = client.remotePort ?? -id;
    const peer = `${remoteAddress}:${remotePort}`;
    connection.identity = { remoteAddress, remotePort };
    this.byPeer.set(peer, connection);
    connection.onClose(() => {
      this.awaitingHop.delete(id);
      if (this.byPeer.get(peer) === connection) this.byPeer.delete(peer);
    });
  }

  /** The private end of a relayed connection: read its id, name it, hand it to gRPC. */
  private acceptHop(end: Socket): void {
    end.on("error", () => end.destroy());
    this.unnamedEnds.add(end);
    end.once("close", () => this.unnamedEnds.delete(end));
    const readId = (): void => {
      const head = end.read(ID_BYTES) as Buffer | null;
      if (head === null) return;
      end.off("readable", readId).off("end", refuse);
      this.unnamedEnds.delete(end);
      // At its end a stream gives what is left, which may be short of an id.
      const id = head.length === ID_BYTES ? head.readUIntBE(ID_BYTES - 6, 6) : 0;
      const connection = this.awaitingHop.get(id);
      if (connection === undefined || connection.closed) {
        end.destroy();
        return;
      }
      this.awaitingHop.delete(id);
      const { remoteAddress, remotePort } = connection.identity;
      // grpc-js reads a call's peer from the socket; an own property shadows net's getter.
      Object.defineProperty(end, "remoteAddress", { value: remoteAddress });
      Object.defineProperty(end, "remotePort", { value: remotePort });
      this.inject(end);
    };
    const refuse = (): void => {
      end.destroy();
    };
    end.on("readable", readId).once("end", refuse);
  }

  /** Stops accepting and cuts every relayed connection. */
  async close(): Promise<void> {
    for (const connection of this.byPeer.values()) connection.drop();
    for (const end of this.unnamedEnds) end.destroy();
    await Promise.all(
      [this.server, this.hop].map(
        (server) =>
          new Promise<void>((resolve) =>
            server.close(() => {
              resolve();
            }),
          ),
      ),
    );
    rmSync(this.hopDir, { recursive: true, force: true });
  }
}
