// SPDX-License-Identifier: Apache-2.0
/**
 * A TCP proxy on loopback that the test can use to cut a guest's link to the hypervisor for
 * real: `cut()` destroys every open connection in both directions (the guest sees its gRPC
 * connection reset mid-stream), and the proxy keeps listening so the guest can reconnect.
 */
import { resetLink } from "@hmx/hypervisor";
import { createConnection, createServer, type Server, type Socket } from "node:net";

export { resetLink };

export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Connections accepted so far (the first plus one per reconnect). */
  accepted = 0;

  private constructor(private readonly upstream: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.accepted++;
      const upstreamSocket = createConnection(this.upstream);
      const pair: [Socket, Socket] = [client, upstreamSocket];
      this.pairs.add(pair);
      const close = () => {
        client.destroy();
        upstreamSocket.destroy();
        this.pairs.delete(pair);
      };
      client.on("error", close).on("close", close);
      upstreamSocket.on("error", close).on("close", close);
      client.pipe(upstreamSocket);
      upstreamSocket.pipe(client);
    });
  }

  /**
   * Starts a proxy on 127.0.0.1 in front of `upstream` ("host:port"), on `port` (default: a free
   * one). Closing a proxy and starting another on its port is a hypervisor that was unreachable
   * (connection refused) for a while.
   */
  static async start(upstream: string, port = 0): Promise<TcpProxy> {
    const i = upstream.lastIndexOf(":");
    const proxy = new TcpProxy({ host: upstream.slice(0, i), port: Number(upstream.slice(i + 1)) });
    await new Promise<void>((resolve) => proxy.server.listen(port, "127.0.0.1", resolve));
    return proxy;
  }

  /** The port the proxy listens on. */
  get port(): number {
    return Number(this.address.slice(this.address.lastIndexOf(":") + 1));
  }

  get address(): string {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("proxy is not listening");
    return `127.0.0.1:${a.port}`;
  }

  /** Cuts every open connection now (a link drop); new connections are still accepted. */
  cut(): number {
    const n = this.pairs.size;
    for (const [a, b] of [...this.pairs]) {
      resetLink(a);
      b.destroy();
    }
    this.pairs.clear();
    return n;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
