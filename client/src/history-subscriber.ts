// SPDX-License-Identifier: Apache-2.0
/**
 * A subscriber of the hypervisor's event history (`GET /v1/history` on the HTTP listener,
 * docs/harness.md): one JSON event per WebSocket frame (or, with `format: "binary"`, many
 * events per binary frame, decoded by history-binary.ts into the same event objects), each with
 * a strictly increasing `seq`. When the connection drops (a network cut, the hypervisor closing
 * a subscriber that fell behind) it reconnects with `since` = the last seq it delivered, so
 * within the retained window no event is lost or delivered twice; what the window no longer
 * holds arrives as the hypervisor's `gap` event, delivered like any other. A refusal (wrong
 * token, a bad query, a `since` from another run) is not retried: `done` rejects with the
 * hypervisor's message.
 */
import WebSocket from "ws";
import { decodeHistoryFrame } from "./history-binary.js";

export const HISTORY_KINDS = [
  "hypercall",
  "virq",
  "mac",
  "link",
  "fault",
  "domain",
  "session",
  "gap",
] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

/** One history event: the three fields every event has, and its kind's own (docs/harness.md). */
export interface HistoryEvent {
  readonly seq: number;
  /** RFC 3339 UTC with nanoseconds. */
  readonly time: string;
  readonly kind: HistoryKind;
  readonly [field: string]: unknown;
}

export interface HistorySubscriberOptions {
  /** The HTTP listener's "host:port" (the ready line's `httpListen`). */
  readonly address: string;
  readonly adminToken: string;
  /** Start after this seq (0: from the oldest retained event); default: from the next event. */
  readonly since?: number;
  /**
   * Instead of `since`: start with the newest `last` retained events that pass the filters.
   * Only the first connection asks for it; a reconnect resumes after the last seq delivered.
   */
  readonly last?: number;
  /**
   * End after this seq, or `"now"`: after the newest event at connection (read what happened,
   * do not follow). Default: follow until `close()`.
   */
  readonly until?: number | "now";
  /** Only these kinds (a `gap` always comes through). */
  readonly kinds?: readonly HistoryKind[];
  /** Only events involving this domain. */
  readonly domid?: number;
  /**
   * How the hypervisor sends the events: `"json"` (default), one JSON text frame each, or
   * `"binary"`, the compact format of docs/harness.md "Binary format": the same events, a
   * fraction of the bytes and of the decoding CPU, for a subscriber that must keep up with a
   * busy hypervisor.
   */
  readonly format?: "json" | "binary";
  /** Reconnect and resume when the connection drops (default true). */
  readonly reconnect?: boolean;
  /** First delay before reconnecting; doubles per failed attempt up to 5 s (default 200). */
  readonly retryDelayMs?: number;
  /** Consecutive failed connection attempts before `done` rejects (default 10). */
  readonly maxAttempts?: number;
  /** Each event, in seq order, once. */
  readonly onEvent: (event: HistoryEvent) => void;
  /** Connection changes: connected, or lost (with why) and about to retry. */
  readonly onConnection?: (change: ConnectionChange) => void;
}

export type ConnectionChange =
  | { readonly state: "connected"; readonly since: number | undefined }
  | { readonly state: "lost"; readonly reason: string; readonly retryInMs: number };

/** How a subscription ended normally. */
export interface HistoryEnd {
  readonly reason: "closed" | "until";
  /** The last seq delivered (undefined if none). */
  readonly lastSeq: number | undefined;
}

/** The hypervisor refused the subscription, or could not be reached. */
export class HistorySubscriberError extends Error {
  override readonly name = "HistorySubscriberError";
  constructor(
    message: string,
    /** The HTTP status of a refused upgrade (401 wrong token, 400 bad query), if any. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Close codes the hypervisor uses (docs/harness.md "Slow subscribers"). */
const CLOSE_DONE = 1000;
const MAX_RETRY_DELAY_MS = 5000;

/** The `/v1/history` URL for a subscription resuming after `since`. */
export function historyUrl(
  address: string,
  query: {
    since?: number | undefined;
    last?: number | undefined;
    until?: number | "now" | undefined;
    kinds?: readonly string[] | undefined;
    domid?: number | undefined;
    format?: "json" | "binary" | undefined;
  },
): string {
  const params = new URLSearchParams();
  if (query.since !== undefined) params.set("since", String(query.since));
  if (query.last !== undefined) params.set("last", String(query.last));
  if (query.until !== undefined) params.set("until", String(query.until));
  if (query.kinds !== undefined) params.set("kinds", query.kinds.join(","));
  if (query.domid !== undefined) params.set("domid", String(query.domid));
  if (query.format !== undefined && query.format !== "json") params.set("format", query.format);
  const q = params.toString();
  return `ws://${address}/v1/history${q === "" ? "" : `?${q}`}`;
}

export class HistorySubscriber {
  /** The last seq delivered; the next connection resumes after it. */
  lastSeq: number | undefined;
  /** Gap events delivered, and the events they said were lost. */
  gaps = 0;
  droppedEvents = 0;
  /** Connections made (1 + reconnects). */
  connections = 0;
  /** Settles when the subscription ends: `close()`, `until` reached, or a refusal (rejects). */
  readonly done: Promise<HistoryEnd>;
  #resolve!: (end: HistoryEnd) => void;
  #reject!: (err: Error) => void;
  #ws: WebSocket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #failures = 0;

  constructor(private readonly options: HistorySubscriberOptions) {
    this.done = new Promise<HistoryEnd>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#connect();
  }

  /** Ends the subscription; `done` resolves with reason "closed". */
  close(): void {
    if (this.#closed) return;
    this.#finish();
    this.#resolve({ reason: "closed", lastSeq: this.lastSeq });
  }

  #finish(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.removeAllListeners();
    this.#ws?.on("error", () => undefined);
    this.#ws?.terminate();
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#finish();
    this.#reject(err);
  }

  #connect(): void {
    const o = this.options;
    const since = this.lastSeq ?? o.since;
    const last = this.lastSeq === undefined ? o.last : undefined;
    const ws = new WebSocket(
      historyUrl(o.address, {
        since,
        last,
        until: o.until,
        kinds: o.kinds,
        domid: o.domid,
        format: o.format,
      }),
      { headers: { authorization: `Bearer ${o.adminToken}` }, perMessageDeflate: false },
    );
    this.#ws = ws;
    ws.on("open", () => {
      this.connections++;
      this.#failures = 0;
      o.onConnection?.({ state: "connected", since });
    });
    // Text frames for JSON, binary ones for the binary format (the hypervisor sends nothing
    // else), so `data` is one Buffer. A frame that does not decode ends the subscription: a
    // hypervisor speaking another version cannot be read by retrying.
    const binary = o.format === "binary";
    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary !== binary) {
        const got = isBinary ? "binary" : "text";
        const wanted = o.format ?? "json";
        this.#fail(
          new HistorySubscriberError(
            `history at ${o.address}: got a ${got} frame on a ${wanted} subscription`,
          ),
        );
        return;
      }
      if (!binary) {
        this.#deliver(JSON.parse(data.toString("utf8")) as HistoryEvent);
        return;
      }
      let events: HistoryEvent[];
      try {
        events = decodeHistoryFrame(data);
      } catch (err) {
        this.#fail(
          new HistorySubscriberError(
            `history at ${o.address}: ${(err as Error).message}`,
            undefined,
            {
              cause: err,
            },
          ),
        );
        return;
      }
      for (const event of events) {
        this.#deliver(event);
        if (this.#closed) return;
      }
    });
    ws.on("unexpected-response", (_req, res) => {
      // A refused upgrade: read the hypervisor's JSON message, then give up (retrying a wrong
      // token or a bad query cannot succeed).
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on("end", () => {
        let message = body.trim();
        try {
          message = (JSON.parse(body) as { error?: string }).error ?? message;
        } catch {
          // not JSON: keep the text
        }
        this.#fail(
          new HistorySubscriberError(
            `history at ${o.address} refused (HTTP ${res.statusCode}): ${message}`,
            res.statusCode,
          ),
        );
      });
    });
    ws.on("error", (err) => {
      ws.terminate();
      this.#lost(err.message, err);
    });
    ws.on("close", (code, reason) => {
      if (code === CLOSE_DONE && o.until !== undefined) {
        this.#finish();
        this.#resolve({ reason: "until", lastSeq: this.lastSeq });
        return;
      }
      this.#lost(`closed with ${code}${reason.length > 0 ? ` (${reason.toString()})` : ""}`);
    });
  }

  #deliver(event: HistoryEvent): void {
    // A resumed connection starts after lastSeq; this guard keeps "once" even if it did not.
    if (this.lastSeq !== undefined && event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    if (event.kind === "gap") {
      this.gaps++;
      this.droppedEvents += typeof event["dropped"] === "number" ? event["dropped"] : 0;
    }
    this.options.onEvent(event);
  }

  #lost(reason: string, cause?: Error): void {
    if (this.#closed || this.#timer !== undefined) return;
    const o = this.options;
    this.#ws?.removeAllListeners();
    this.#ws?.on("error", () => undefined);
    this.#failures++;
    if (o.reconnect === false || this.#failures > (o.maxAttempts ?? 10)) {
      const gaveUp = o.reconnect === false ? "" : ` (gave up after ${this.#failures - 1} retries)`;
      this.#fail(
        new HistorySubscriberError(
          `history at ${o.address}: ${reason}${gaveUp}`,
          undefined,
          cause === undefined ? undefined : { cause },
        ),
      );
      return;
    }
    const delay = Math.min(
      MAX_RETRY_DELAY_MS,
      (o.retryDelayMs ?? 200) * 2 ** Math.max(0, this.#failures - 1),
    );
    o.onConnection?.({ state: "lost", reason, retryInMs: delay });
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#connect();
    }, delay);
  }
}
