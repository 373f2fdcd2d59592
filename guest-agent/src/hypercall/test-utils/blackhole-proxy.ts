// SPDX-License-Identifier: Apache-2.0
/**
 * A TCP relay on 127.0.0.1 that can turn every current connection into a silent black hole:
 * the sockets stay open but bytes stop flowing, as on a partitioned network where no FIN or
 * RST ever arrives. Only keepalive pings can notice such a link, which is what the tests of the
 * hypercall client's keepalive settings need. Connections opened afterwards relay normally.
 */
import * as net from "node:net";

/** Which direction of the existing connections goes silent. */
export type BlackholeDirection = "both" | "to-client" | "to-server";

export class BlackholeProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket; silent: string }>();

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** Starts relaying `127.0.0.1:<free port>` to `target` (`host:port`). */
  static async start(target: string): Promise<BlackholeProxy> {
    const sep = target.lastIndexOf(":");
    const host = target.slice(0, sep);
    const port = Number(target.slice(sep + 1));
    const server = net.createServer();
    const proxy = new BlackholeProxy(server);
    server.on("connection", (client) => {
      const upstream = net.connect(port, host);
      const pair = { client, upstream, silent: "" };
      proxy.#pairs.add(pair);
      client.on("data", (d: Buffer) => {
        if (pair.silent !== "both" && pair.silent !== "to-server") upstream.write(d);
      });
      upstream.on("data", (d: Buffer) => {
        if (pair.silent !== "both" && pair.silent !== "to-client") client.write(d);
      });
      const close = (): void => {
        proxy.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("close", close);
      upstream.on("close", close);
      client.on("error", close);
      upstream.on("error", close);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get address(): string {
    const a = this.#server.address() as net.AddressInfo;
    return `127.0.0.1:${a.port}`;
  }

  /** Silences every connection open now, in `direction`, without closing it. */
  blackhole(direction: BlackholeDirection = "both"): void {
    for (const pair of this.#pairs) pair.silent = direction;
  }

  /** Closes every connection and the listener. */
  async stop(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }
}
