// SPDX-License-Identifier: Apache-2.0
/**
 * The listening side of streams (the Linux driver's listener and acceptors). One receive ring
 * on the listening port carries every connection to it; frames are told apart by (source
 * domain, source port, connection id). A SYN creates a connection, answered by ACK with our
 * credit, and queues it for `accept`; over the connection limit or the backlog the SYN gets RST
 * (reason "limit"). A frame for no known connection gets RST ("unknown connection"), so a peer
 * that outlived our state learns it at once. The ring is drained as fast as it fills — each
 * connection's data goes to that connection's bounded buffer — so a slow reader on one
 * connection never holds up another's bytes.
 *
 * Who may connect: the ring's partner (a single domain, or any domain for a wildcard ring,
 * which needs --argo-mac-permissive), then MAC and the firewall at each connector's SYN sendv
 * and at our replies.
 */
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import type { ArgoAddr } from "../../hypercall/hypercall-client.js";
import type { ArgoEndpoint } from "../argo-endpoint.js";
import type { DgramSocket } from "../dgram-socket.js";
import { ArgoSocketError } from "../errors.js";
import { StreamConnection } from "./connection.js";
import { decodeFrame, encodeFrame, FrameType, ResetReason, type Frame } from "./frame.js";
import {
  maxPayloadForRing,
  resolveTuning,
  type ResolvedTuning,
  type StreamTuning,
} from "./tuning.js";

export interface ListenOptions extends StreamTuning {
  /** The port to listen on. */
  readonly aport: number;
  /** The only domain that may connect, or ARGO_DOMID_ANY (default; needs mac-permissive). */
  readonly partner?: number;
  /** Most open connections; further SYNs are reset. Default 64. */
  readonly maxConnections?: number;
  /** Most connections set up but not yet accepted; default 16. */
  readonly backlog?: number;
}

export interface ListenerStats {
  accepted: number;
  /** SYNs reset because of the connection limit or the backlog. */
  refused: number;
  /** Datagrams on the listening port that were not stream frames. */
  badFrames: number;
  /** Frames for no known connection (answered with RST). */
  strays: number;
}

type AcceptWaiter = (conn: StreamConnection | null) => void;

export class StreamListener implements AsyncIterable<StreamConnection> {
  readonly stats: ListenerStats = { accepted: 0, refused: 0, badFrames: 0, strays: 0 };
  readonly #socket: DgramSocket;
  readonly #tuning: ResolvedTuning;
  readonly #maxConnections: number;
  readonly #backlog: number;
  readonly #connections = new Map<string, StreamConnection>();
  readonly #pending: StreamConnection[] = [];
  readonly #waiters: AcceptWaiter[] = [];
  readonly #loop: Promise<void>;
  #closing: Promise<void> | null = null;

  private constructor(
    socket: DgramSocket,
    tuning: ResolvedTuning,
    maxConnections: number,
    backlog: number,
  ) {
    this.#socket = socket;
    this.#tuning = tuning;
    this.#maxConnections = maxConnections;
    this.#backlog = backlog;
    this.#loop = this.#receiveLoop();
  }

  /** Binds the listening ring. Rejects like `ArgoEndpoint.bind` (EPERM for a wildcard without mac-permissive, EADDRINUSE, ...). */
  static async listen(endpoint: ArgoEndpoint, options: ListenOptions): Promise<StreamListener> {
    const tuning = resolveTuning(options);
    const maxConnections = options.maxConnections ?? 64;
    const backlog = options.backlog ?? 16;
    for (const [name, v] of [
      ["maxConnections", maxConnections],
      ["backlog", backlog],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1 || v > 100_000) {
        throw new ArgoSocketError(
          "EINVAL",
          `listener ${name} ${v} is not an integer in [1, 100000]`,
        );
      }
    }
    const socket = await endpoint.bind({
      aport: options.aport,
      partner: options.partner ?? ARGO_DOMID_ANY,
      ringLen: tuning.ringLen,
    });
    return new StreamListener(socket, tuning, maxConnections, backlog);
  }

  get address(): ArgoAddr {
    return this.#socket.address;
  }

  get partner(): number {
    return this.#socket.partner;
  }

  /** Connections open now (accepted or waiting to be). */
  get connections(): number {
    return this.#connections.size;
  }

  /** The next connection, or null once the listener is closed. */
  accept(): Promise<StreamConnection | null> {
    const next = this.#pending.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closing !== null) return Promise.resolve(null);
    return new Promise<StreamConnection | null>((resolve) => this.#waiters.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamConnection> {
    return {
      next: async (): Promise<IteratorResult<StreamConnection>> => {
        const c = await this.accept();
        return c === null ? { done: true, value: undefined } : { done: false, value: c };
      },
    };
  }

  /**
   * Stops listening: connections not yet accepted are reset, accepted ones are left to their
   * owners until they finish (the ring stays until then), then the ring goes. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closing = (async () => {
      for (const w of this.#waiters.splice(0)) w(null);
      for (const c of this.#pending.splice(0)) c.destroy();
      await this.#drained();
      await this.#socket.close();
      await this.#loop;
    })();
    return this.#closing;
  }

  /** Resets every connection and closes the ring now. */
  async abort(): Promise<void> {
    for (const c of [...this.#connections.values()]) c.destroy();
    await this.close();
  }

  #drainedWaiters: (() => void)[] = [];
  #drained(): Promise<void> {
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#drainedWaiters.push(resolve));
  }

  async #receiveLoop(): Promise<void> {
    for await (const m of this.#socket) {
      const frame = decodeFrame(m.data);
      if (typeof frame === "string") {
        this.stats.badFrames++;
        continue;
      }
      const key = `${m.source.domainId}:${m.source.aport}:${frame.connId}`;
      const conn = this.#connections.get(key);
      if (conn !== undefined) conn.handle(frame);
      else if (frame.type === FrameType.SYN) this.#onSyn(key, m.source, frame);
      else if (
        frame.type !== FrameType.RST &&
        frame.type !== FrameType.WINDOW &&
        frame.type !== FrameType.PONG
      ) {
        // (A late credit or keepalive answer for a connection that finished needs no answer.)
        this.stats.strays++;
        this.#reset(m.source, frame.connId, ResetReason.UNKNOWN_CONNECTION);
      }
    }
  }

  #onSyn(key: string, source: ArgoAddr, syn: Frame): void {
    if (this.#closing !== null) {
      this.#reset(source, syn.connId, ResetReason.CLOSING);
      return;
    }
    if (this.#connections.size >= this.#maxConnections || this.#pending.length >= this.#backlog) {
      this.stats.refused++;
      this.#reset(source, syn.connId, ResetReason.LIMIT);
      return;
    }
    const t = this.#tuning;
    const conn = new StreamConnection(
      {
        connId: syn.connId,
        local: this.#socket.address,
        peer: source,
        send: (frame) => this.#socket.sendTo(source, frame),
        window: t.window,
        maxSegment: t.maxSegment,
        keepaliveMs: t.keepaliveMs,
        keepaliveProbes: t.keepaliveProbes,
        onFinished: () => {
          this.#connections.delete(key);
          const i = this.#pending.indexOf(conn);
          if (i !== -1) this.#pending.splice(i, 1);
          if (this.#connections.size === 0) for (const w of this.#drainedWaiters.splice(0)) w();
        },
      },
      "open",
      { credit: syn.credit, maxPayload: syn.seq },
    );
    this.#connections.set(key, conn);
    this.stats.accepted++;
    void this.#socket
      .sendTo(
        source,
        encodeFrame({
          type: FrameType.ACK,
          connId: syn.connId,
          credit: conn.advertisedCredit,
          seq: maxPayloadForRing(t.ringLen),
        }),
      )
      .catch(() => {
        conn.destroy();
      }); // the connector is gone or denied our reply: it will time out
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(conn);
    else this.#pending.push(conn);
  }

  #reset(to: ArgoAddr, connId: number, reason: number): void {
    void this.#socket
      .sendTo(to, encodeFrame({ type: FrameType.RST, connId, reason }))
      .catch(() => undefined);
  }
}
