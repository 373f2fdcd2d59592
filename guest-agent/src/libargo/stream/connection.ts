// SPDX-License-Identifier: Apache-2.0
/**
 * One end of an Argo stream connection: the state machine between frames in and frames out,
 * independent of how frames travel (the connector and the listener feed it frames and give it a
 * `send`). Argo itself delivers a sender's messages to a ring exactly once and in order, or
 * fails the sendv, so the stream needs no retransmission; what it adds is connections, flow
 * control and close.
 *
 * States: `connecting` (connector: SYN sent, waiting for ACK or RST) → `open` → `closed`.
 * Half-close lives inside `open`: `end()` sends FIN after the queued data (our direction done,
 * the peer's still flowing); the connection is finished when both FINs have passed and every
 * send has completed. `destroy()` is the abortive close: RST to the peer, pending writes fail.
 *
 * Flow control by credit. Each side advertises an absolute offset it can take bytes up to (its
 * `window` past what its application consumed); a sender never sends past the last credit it
 * heard, so the data in flight to one connection never exceeds the window however slowly its
 * application reads, and the receiver always empties its ring at once into the bounded buffer.
 * A full ring (other connections, control frames) is still safe: the datagram layer turns
 * -EAGAIN into a wait for the hypervisor's space notification and retries, in order.
 *
 * Keepalive. Any frame from the peer proves it alive; after `keepaliveMs` of silence a PING is
 * sent (answered by a PONG carrying the credit), and after `keepaliveProbes` unanswered PINGs
 * the connection is reset with ETIMEDOUT.
 */
import type { ArgoAddr } from "../../hypercall/hypercall-client.js";
import { addrString } from "../errors.js";
import {
  encodeFrame,
  FrameType,
  frameTypeName,
  ResetReason,
  resetReasonName,
  type Frame,
  type ResetReasonValue,
} from "./frame.js";
import { sendFailure, StreamError } from "./stream-error.js";

export type ConnectionState = "connecting" | "open" | "closed";

/** Per-connection counters; plain numbers so that they can be logged as they are. */
export interface ConnectionStats {
  bytesSent: number;
  bytesReceived: number;
  framesSent: number;
  framesReceived: number;
  /** Times the sender had data but no credit (the peer's application is slower). */
  windowStalls: number;
  pingsSent: number;
}

export interface ConnectionOptions {
  readonly connId: number;
  readonly local: ArgoAddr;
  readonly peer: ArgoAddr;
  /** Sends one frame to the peer; rejects with the datagram layer's error. */
  readonly send: (frame: Buffer) => Promise<unknown>;
  /** Our receive window in bytes. */
  readonly window: number;
  /** Most payload bytes in one DATA frame. */
  readonly maxSegment: number;
  /** Silence before a keepalive PING; 0 disables keepalive. */
  readonly keepaliveMs: number;
  readonly keepaliveProbes: number;
  /** Called once when the connection no longer needs its transport (finished or failed). */
  readonly onFinished?: (conn: StreamConnection) => void;
}

interface PendingWrite {
  readonly data: Buffer;
  offset: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class StreamConnection {
  readonly connId: number;
  readonly local: ArgoAddr;
  readonly peer: ArgoAddr;
  readonly stats: ConnectionStats = {
    bytesSent: 0,
    bytesReceived: 0,
    framesSent: 0,
    framesReceived: 0,
    windowStalls: 0,
    pingsSent: 0,
  };
  /** Called whenever there is something new to read: data, end of stream, or an error. */
  onReadable: () => void = () => undefined;

  readonly #opts: ConnectionOptions;
  #state: ConnectionState;
  #error: Error | undefined;
  readonly #established: Promise<void>;
  #resolveEstablished!: () => void;
  #rejectEstablished!: (err: Error) => void;

  // Sending.
  #tx: PendingWrite[] = [];
  /** Stream offset of the next byte to send. */
  #sendOffset = 0;
  /** The peer's credit: we may send bytes below this offset. */
  #peerCredit = 0;
  /** The largest DATA payload the peer's ring can take (its SYN / ACK says). */
  #peerMaxPayload: number;
  #finRequested = false;
  #finSent = false;
  #endWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Sends handed to the transport and not yet completed. */
  #inflight = 0;

  // Receiving.
  #rx: Buffer[] = [];
  /** Stream offset of the next byte expected from the peer. */
  #recvOffset = 0;
  /** Bytes the application has taken. */
  #consumed = 0;
  /** The credit last advertised to the peer. */
  #advertised: number;
  #remoteFin = false;

  #keepaliveTimer: NodeJS.Timeout | null = null;
  #lastHeard = Date.now();
  #probes = 0;
  #finished = false;

  /**
   * `peer` is what the peer's SYN said (listener side): its credit and the largest DATA payload
   * its ring takes; a connector learns both from the ACK.
   */
  constructor(
    options: ConnectionOptions,
    state: "connecting" | "open",
    peer: { readonly credit: number; readonly maxPayload: number } = { credit: 0, maxPayload: 1 },
  ) {
    this.#opts = options;
    this.connId = options.connId;
    this.local = options.local;
    this.peer = options.peer;
    this.#state = state;
    this.#peerCredit = peer.credit;
    this.#peerMaxPayload = Math.max(1, peer.maxPayload);
    this.#advertised = options.window;
    this.#established = new Promise<void>((resolve, reject) => {
      this.#resolveEstablished = resolve;
      this.#rejectEstablished = reject;
    });
    // A connector that is never awaited must not leave an unhandled rejection behind.
    this.#established.catch(() => undefined);
    if (state === "open") this.#resolveEstablished();
    this.#startKeepalive();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The error the connection failed with (undefined after a clean close or local abort). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Resolves when the connection is open; rejects with the reason it never opened. */
  get established(): Promise<void> {
    return this.#established;
  }

  /** Our credit as the SYN / ACK advertise it. */
  get advertisedCredit(): number {
    return this.#advertised;
  }

  /** The peer ended its direction and every byte before its FIN has been read. */
  get readEnded(): boolean {
    return this.#remoteFin && this.#rx.length === 0;
  }

  /** Bytes received and not yet read by the application. */
  get bufferedBytes(): number {
    return this.#recvOffset - this.#consumed;
  }

  // ---- application side ----

  /** The next chunk of received bytes, or null if none is buffered now. */
  read(): Buffer | null {
    const chunk = this.#rx.shift();
    if (chunk === undefined) return null;
    this.#consumed += chunk.length;
    this.#maybeAdvertise();
    return chunk;
  }

  /**
   * Queues bytes; resolves once they are all handed to the datagram layer (within the peer's
   * credit), so awaiting each write bounds what this side holds. Rejects with the connection's
   * error, or EPIPE after `end()` or a close.
   */
  write(data: Uint8Array): Promise<void> {
    if (this.#state === "closed" || this.#finRequested) {
      return Promise.reject(
        this.#error ??
          new StreamError(
            "EPIPE",
            `write after end on stream to ${addrString(this.peer)}`,
            this.peer,
          ),
      );
    }
    if (data.length === 0) return Promise.resolve();
    const buf = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.length);
    return new Promise<void>((resolve, reject) => {
      this.#tx.push({ data: buf, offset: 0, resolve, reject });
      this.#pump();
    });
  }

  /** Half-close: FIN after the queued data. Resolves once the FIN is in the peer's ring. */
  end(): Promise<void> {
    if (this.#state === "closed") {
      return this.#error === undefined ? Promise.resolve() : Promise.reject(this.#error);
    }
    return new Promise<void>((resolve, reject) => {
      this.#endWaiters.push({ resolve, reject });
      this.#finRequested = true;
      this.#pump();
    });
  }

  /** Abortive close: RST to the peer (unless it already finished), pending writes fail. */
  destroy(): void {
    if (this.#state === "closed") return;
    this.#fail(
      new StreamError(
        "ECONNRESET",
        `stream to ${addrString(this.peer)} aborted locally`,
        this.peer,
      ),
      ResetReason.ABORT,
      false,
    );
  }

  // ---- frames from the peer ----

  /** Handles one frame addressed to this connection. */
  handle(frame: Frame): void {
    if (this.#state === "closed") return;
    this.stats.framesReceived++;
    this.#lastHeard = Date.now();
    this.#probes = 0;
    switch (frame.type) {
      case FrameType.ACK:
        if (this.#state === "connecting") {
          this.#state = "open";
          this.#peerCredit = Math.max(this.#peerCredit, frame.credit);
          this.#peerMaxPayload = Math.max(1, frame.seq);
          this.#resolveEstablished();
          this.#pump();
        }
        return; // a repeated ACK is harmless
      case FrameType.SYN:
        return; // a repeated SYN for a connection already set up
      case FrameType.DATA:
        this.#onData(frame);
        return;
      case FrameType.WINDOW:
      case FrameType.PONG:
        if (frame.credit > this.#peerCredit) {
          this.#peerCredit = frame.credit;
          this.#pump();
        }
        return;
      case FrameType.PING:
        this.#sendControl({ type: FrameType.PONG, connId: this.connId, credit: this.#advertised });
        return;
      case FrameType.FIN:
        if (frame.seq !== this.#recvOffset) {
          this.#protocolError(`FIN at offset ${frame.seq}, but ${this.#recvOffset} bytes arrived`);
          return;
        }
        this.#remoteFin = true;
        this.onReadable();
        this.#maybeFinish();
        return;
      case FrameType.RST:
        this.#onReset(frame.reason);
        return;
    }
  }

  #onData(frame: Frame): void {
    if (this.#state !== "open") {
      this.#protocolError(`DATA before the connection was set up`);
      return;
    }
    if (this.#remoteFin) {
      this.#protocolError(`DATA after FIN`);
      return;
    }
    if (frame.seq !== this.#recvOffset) {
      // Argo delivers in order and once: a gap or a repeat is a broken peer. Never deliver it.
      this.#protocolError(`DATA at offset ${frame.seq}, expected ${this.#recvOffset}`);
      return;
    }
    const end = frame.seq + frame.data.length;
    if (end > this.#advertised) {
      this.#protocolError(`DATA up to offset ${end} overruns the credit ${this.#advertised}`);
      return;
    }
    this.#recvOffset = end;
    this.stats.bytesReceived += frame.data.length;
    if (frame.data.length > 0) {
      // The datagram layer's buffer is ours to keep (each message is its own copy).
      this.#rx.push(frame.data);
      this.onReadable();
    }
  }

  #onReset(reason: number): void {
    if (this.#remoteFin && this.#finSent) {
      // Both FINs crossed; the peer finished and reset a late frame of ours. Nothing is lost.
      this.#state = "closed";
      this.#finish();
      return;
    }
    const to = addrString(this.peer);
    const err =
      this.#state === "connecting"
        ? new StreamError(
            "ECONNREFUSED",
            `connection to ${to} refused by the peer (${resetReasonName(reason)})`,
            this.peer,
          )
        : new StreamError(
            reason === ResetReason.TIMEOUT ? "ETIMEDOUT" : "ECONNRESET",
            `stream to ${to} reset by the peer (${resetReasonName(reason)})`,
            this.peer,
          );
    this.#fail(err, null, true);
  }

  #protocolError(what: string): void {
    this.#fail(
      new StreamError("EPROTO", `stream to ${addrString(this.peer)}: ${what}`, this.peer),
      ResetReason.PROTOCOL,
      true,
    );
  }

  // ---- sending ----

  #pump(): void {
    if (this.#state !== "open") return;
    for (;;) {
      const head = this.#tx[0];
      if (head === undefined) break;
      const avail = this.#peerCredit - this.#sendOffset;
      if (avail <= 0) {
        this.stats.windowStalls++;
        return;
      }
      const n = Math.min(
        avail,
        this.#opts.maxSegment,
        this.#peerMaxPayload,
        head.data.length - head.offset,
      );
      const chunk = head.data.subarray(head.offset, head.offset + n);
      this.#transmit(
        encodeFrame({ type: FrameType.DATA, connId: this.connId, seq: this.#sendOffset }, chunk),
        "send",
      ).catch(() => undefined); // the connection has failed with it: writers and readers are told
      this.#sendOffset += n;
      this.stats.bytesSent += n;
      head.offset += n;
      if (head.offset === head.data.length) {
        this.#tx.shift();
        head.resolve();
      }
    }
    if (this.#finRequested && !this.#finSent) {
      this.#finSent = true;
      const waiters = this.#endWaiters.splice(0);
      this.#transmit(
        encodeFrame({ type: FrameType.FIN, connId: this.connId, seq: this.#sendOffset }),
        "FIN",
      ).then(
        () => {
          for (const w of waiters) w.resolve();
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err as Error);
        },
      );
    } else if (this.#finSent && this.#endWaiters.length > 0) {
      // end() called again after the FIN went out: settles with the first one.
      for (const w of this.#endWaiters.splice(0)) w.resolve();
    }
  }

  /** Sends a frame that belongs to the stream; a failure fails the connection. */
  #transmit(frame: Buffer, what: string, control = false): Promise<void> {
    this.#inflight++;
    this.stats.framesSent++;
    return this.#opts.send(frame).then(
      () => {
        this.#inflight--;
        this.#maybeFinish();
      },
      (err: unknown) => {
        this.#inflight--;
        if (control && this.#finSent) {
          // The peer may finish (and drop its ring) as soon as it has our FIN and sent its
          // own: a credit or keepalive frame racing that is moot, not a failure.
          this.#maybeFinish();
          return;
        }
        const failure = sendFailure(err, this.local, this.peer, `stream ${what}`);
        // The peer (or the policy) is gone: nothing to reset there.
        this.#fail(failure, null, true);
        throw this.#error ?? failure;
      },
    );
  }

  /** Sends a control frame whose loss only matters if the peer is gone (then we learn it). */
  #sendControl(frame: Parameters<typeof encodeFrame>[0]): void {
    this.#transmit(encodeFrame(frame), frameTypeName(frame.type), true).catch(() => undefined);
  }

  #maybeAdvertise(): void {
    // No more data will come after the peer's FIN: no credit to give.
    if (this.#state !== "open" || this.#remoteFin) return;
    const credit = this.#consumed + this.#opts.window;
    // A quarter window at a time: fewer WINDOW frames, and a blocked sender always gets one
    // once its receiver has read everything (credit then grows by a whole window).
    if (credit - this.#advertised < this.#opts.window / 4) return;
    this.#advertised = credit;
    this.#sendControl({ type: FrameType.WINDOW, connId: this.connId, credit });
  }

  // ---- end of life ----

  #maybeFinish(): void {
    if (this.#state !== "open" || !this.#remoteFin || !this.#finSent || this.#inflight > 0) return;
    // Both directions done and every frame delivered: the transport can go.
    this.#state = "closed";
    this.#finish();
  }

  /**
   * Fails the connection: `rst` (a reason) resets the peer first, `notify` tells the reader
   * (an error it did not cause itself).
   */
  #fail(err: StreamError, rst: ResetReasonValue | null, notify: boolean): void {
    if (this.#state === "closed") return;
    const wasConnecting = this.#state === "connecting";
    this.#state = "closed";
    if (notify) this.#error = err;
    if (rst !== null && !wasConnecting) {
      // Best effort: the peer may be gone already, which is why we are here.
      this.stats.framesSent++;
      this.#opts
        .send(encodeFrame({ type: FrameType.RST, connId: this.connId, reason: rst }))
        .catch(() => undefined)
        .finally(() => {
          this.#finish();
        });
    }
    this.#rejectEstablished(err);
    const pending = this.#tx.splice(0);
    for (const w of pending) w.reject(err);
    for (const w of this.#endWaiters.splice(0)) w.reject(err);
    this.onReadable();
    if (rst === null || wasConnecting) this.#finish();
  }

  /** Fails the connection on a keepalive timeout or a connect timeout. */
  timeout(what: string): void {
    this.#fail(
      new StreamError("ETIMEDOUT", `stream to ${addrString(this.peer)}: ${what}`, this.peer),
      ResetReason.TIMEOUT,
      true,
    );
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#keepaliveTimer !== null) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = null;
    this.#opts.onFinished?.(this);
  }

  #startKeepalive(): void {
    const ms = this.#opts.keepaliveMs;
    if (ms <= 0) return;
    this.#keepaliveTimer = setInterval(() => {
      if (this.#state !== "open" || Date.now() - this.#lastHeard < ms) return;
      if (this.#probes >= this.#opts.keepaliveProbes) {
        this.timeout(`no answer to ${this.#probes} keepalive probes`);
        return;
      }
      this.#probes++;
      this.stats.pingsSent++;
      this.#lastHeard = Date.now();
      this.#sendControl({ type: FrameType.PING, connId: this.connId });
    }, ms);
    this.#keepaliveTimer.unref();
  }
}
