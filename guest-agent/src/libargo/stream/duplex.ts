// SPDX-License-Identifier: Apache-2.0
/**
 * A node `Duplex` over a stream connection, so that an Argo stream plugs into `pipe` like a TCP
 * socket: `end()` half-closes (FIN), the readable side ends at the peer's FIN, `destroy()`
 * without an error aborts (RST), and a connection failure (reset, refused, MAC denial, keepalive
 * timeout) destroys the Duplex with the `StreamError`. Reading is pulled: bytes leave the
 * connection's buffer (returning credit to the peer) only as fast as the consumer takes them.
 */
import { Duplex } from "node:stream";
import type { StreamConnection } from "./connection.js";

export class ArgoStreamDuplex extends Duplex {
  readonly connection: StreamConnection;
  #wantData = false;

  constructor(connection: StreamConnection) {
    super({ allowHalfOpen: true });
    this.connection = connection;
    connection.onReadable = () => {
      this.#pull();
    };
  }

  override _read(): void {
    this.#wantData = true;
    this.#pull();
  }

  #pull(): void {
    const conn = this.connection;
    if (conn.error !== undefined) {
      this.destroy(conn.error);
      return;
    }
    while (this.#wantData) {
      const chunk = conn.read();
      if (chunk === null) {
        if (conn.readEnded) {
          this.#wantData = false;
          this.push(null);
        } else if (conn.state === "closed") {
          // Aborted locally: no more bytes will come, and no FIN either.
          this.#wantData = false;
          this.push(null);
        }
        return;
      }
      this.#wantData = this.push(chunk);
    }
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    this.connection.write(chunk).then(
      () => {
        callback();
      },
      (err: unknown) => {
        callback(err as Error);
      },
    );
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.connection.end().then(
      () => {
        callback();
      },
      (err: unknown) => {
        callback(err as Error);
      },
    );
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (err === null && this.readableEnded && this.writableFinished) {
      // Both FINs crossed: the connection finishes by itself once its last frame is out.
      callback(null);
      return;
    }
    // After a clean end in both directions the connection is finished and this is a no-op;
    // otherwise (an error, or destroy() by the application) it is the abortive close.
    this.connection.destroy();
    callback(err);
  }
}
