// SPDX-License-Identifier: Apache-2.0
/**
 * The event history (DESIGN §3.4): every event gets a strictly increasing `seq` and an RFC 3339
 * `time`, is serialised once, and is kept in a bounded retained window: the last `capacity`
 * events, as UTF-8 in one preallocated byte ring (`capacity` × 256 bytes, at least 1 MiB; long
 * events make the window shorter). Keeping the lines as bytes rather than strings matters: tens
 * of thousands of live strings per second, each promoted to the old generation before it is
 * dropped, cost the garbage collector more than everything else the history does. Subscribers (WebSocket clients, the history file) each hold only a cursor
 * into that window; the window is shared, so a subscriber costs the service its cursor plus
 * what its own sink has queued, which is capped at `maxBufferedBytes`.
 *
 * Appending never touches a subscriber: it stores the line and schedules one pump per turn of
 * the event loop (after the hypercall batch, like a VIRQ). A pump sends each subscriber what
 * its filter wants until its sink holds `maxBufferedBytes`; a subscriber whose cursor the window
 * overtook is told with a `gap` event and skipped ahead to the newest event. A WebSocket that
 * falls behind repeatedly, or that is not reading at all when it is overtaken, is closed with a
 * code saying so. Nothing here ever grows with a slow consumer.
 */
import { performance } from "node:perf_hooks";
import { Rfc3339Clock } from "./rfc3339-clock.js";
import {
  MEMORY_LINE_MAX,
  MemoryLine,
  memoryRecordBytes,
  writeMemoryRecord,
} from "./memory-record.js";
import { ringView, type LineWriter } from "./record-views.js";
import {
  SENDV_LINE_MAX,
  SendvLine,
  sendvRecordBytes,
  writeSendvRecord,
  type SendvFields,
} from "./sendv-record.js";
import type { SeqReservation } from "./history-seq.js";

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
const KIND_INDEX = new Map<string, number>(HISTORY_KINDS.map((k, i) => [k, i]));
const HYPERCALL_KIND = 0;

/** Close codes a WebSocket subscriber may get (4000–4999: application-defined). */
export const HISTORY_CLOSE = {
  /** Overtaken by the retained window more than `maxLagEpisodes` times. */
  FELL_BEHIND: 4001,
  /** Overtaken while its queue was still full: it is not reading. */
  NOT_READING: 4002,
  /** Every event up to the subscription's `until` was sent. */
  DONE: 1000,
  /** The hypervisor is shutting down. */
  GOING_AWAY: 1001,
} as const;

/** Where a subscription's events go. */
export interface HistorySink {
  /** Bytes queued toward the consumer and not yet written, batched ones included. */
  readonly bufferedAmount: number;
  /** One event's JSON as UTF-8: a view into the ring, to copy (or use) before returning. */
  send(event: Uint8Array): void;
  /**
   * One event whose JSON is written on demand (a binary record): the sink lets `line` write it
   * straight into its outgoing bytes. Without this, the history writes it into a buffer of its
   * own and calls `send`.
   */
  sendLine?(line: LineWriter): void;
  /**
   * One hot event as its binary history entry (history-binary.ts): the `length` bytes at
   * `ring[at..]`, to copy before this pump's `flush` returns. The entries of consecutive events
   * usually lie back to back in the ring, so a sink may copy a run of them at once. A sink with
   * this gets it for those events instead of `sendLine`.
   */
  sendEntry?(ring: Buffer, at: number, length: number): void;
  /** At the end of each pump: write what `send` batched. */
  flush?(): void;
  /** Ends the subscription, saying why. */
  close(code: number, reason: string): void;
}

export interface HistoryFilter {
  /** Only these kinds (a `gap` is always sent). */
  readonly kinds?: ReadonlySet<HistoryKind>;
  /** Only events involving this domain. */
  readonly domid?: number;
}

export interface SubscribeOptions {
  readonly filter?: HistoryFilter;
  /** Resume after this seq; undefined = from the next event. */
  readonly since?: number;
  /**
   * Start with the newest `last` retained events the filter passes (fewer if the window holds
   * fewer), instead of `since`: a harness's `tail`.
   */
  readonly last?: number;
  /** Close (true, WebSocket) or only `gap` (false, the file) when the subscriber falls behind. */
  readonly closeWhenBehind: boolean;
  /**
   * End the subscription (close code 1000) once every event up to this seq has been offered:
   * a harness reading what happened so far, not following. `"now"` is the newest at subscribe.
   */
  readonly until?: number | "now";
}

export interface HistoryOptions {
  /** Events kept for `since` resume. */
  readonly capacity: number;
  /** Most bytes a subscriber's sink may hold before it is skipped for this pump. */
  readonly maxBufferedBytes: number;
  /** Times a WebSocket subscriber may be overtaken before it is closed. */
  readonly maxLagEpisodes: number;
  /** Bytes of the ring holding the lines (default `capacity` × 256, at least 1 MiB). */
  readonly maxBytes?: number;
  readonly clock?: Rfc3339Clock;
}

/** What a gap for the events an earlier run of the hypervisor held says. */
export const RESTART_GAP_REASON =
  "the hypervisor restarted: events of the earlier run are not kept across a restart";

/** Worst case of UTF-8 bytes per UTF-16 code unit: a line never needs more room than this. */
const UTF8_PER_UNIT = 3;

/** Domid fields of an event with no domain. */
export const NO_DOMID = -1;

/** What a slot holds (`#binary`): a JSON line, or a binary record rendered by `#lines[code - 1]`. */
const TEXT = 0;
const SENDV_RECORD = 1;
const MEMORY_RECORD = 2;

/** A subscription: its cursor is the next seq it needs. */
export class HistorySubscription {
  lagEpisodes = 0;
  closed = false;
  constructor(
    readonly sink: HistorySink,
    public cursor: number,
    readonly kindMask: number,
    readonly domid: number,
    readonly closeWhenBehind: boolean,
    readonly cancel: () => void,
    /** Last seq to send; Infinity while following. */
    readonly until = Infinity,
  ) {}
}

export class History {
  readonly capacity: number;
  readonly #maxBuffered: number;
  readonly #maxLagEpisodes: number;
  readonly #clock: Rfc3339Clock;
  readonly #bytes: Buffer;
  /** `#bytes` as a DataView, for the binary records' fields. */
  readonly #view: DataView;
  readonly #offset: Int32Array;
  readonly #length: Int32Array;
  readonly #kinds: Uint8Array;
  readonly #domA: Int32Array;
  readonly #domB: Int32Array;
  /** What the slot holds: a JSON line, or a binary record of one of the kinds below. */
  readonly #binary: Uint8Array;
  /** A binary record's monotonic time (`performance.now()`), from which its line's is written. */
  readonly #monoMs: Float64Array;
  /** Where a binary record's line is rendered for a sink without `sendLine`. */
  readonly #rendered = Buffer.allocUnsafeSlow(Math.max(SENDV_LINE_MAX, MEMORY_LINE_MAX));
  /** Each binary record kind's renderer, by its `#binary` code. */
  readonly #lines: readonly [SendvLine, MemoryLine];
  readonly #subs = new Set<HistorySubscription>();
  #nextSeq = 1;
  #oldestSeq = 1;
  /** Seqs before this belong to an earlier run of this hypervisor (continueFrom). */
  #firstSeq = 1;
  #reservation: SeqReservation | undefined;
  /** Seqs up to this are reserved; Infinity without a state dir. */
  #reservedThrough = Infinity;
  #everSubscribed = false;
  #writePos = 0;
  #pumpScheduled = false;
  #retry: NodeJS.Timeout | undefined;
  /** Largest sink queue seen after a send (bytes): what "bounded" is checked against. */
  peakBufferedBytes = 0;
  /** Seqs that some subscriber never got because it fell behind (per subscriber, summed). */
  droppedForSubscribers = 0;
  /** Subscribers closed for falling behind. */
  closedSubscribers = 0;

  constructor(options: HistoryOptions) {
    if (!Number.isSafeInteger(options.capacity) || options.capacity < 1)
      throw new RangeError(`history capacity must be a positive integer, got ${options.capacity}`);
    this.capacity = options.capacity;
    this.#maxBuffered = options.maxBufferedBytes;
    this.#maxLagEpisodes = options.maxLagEpisodes;
    this.#clock = options.clock ?? new Rfc3339Clock();
    this.#bytes = Buffer.allocUnsafeSlow(
      options.maxBytes ?? Math.max(1024 * 1024, options.capacity * 256),
    );
    this.#offset = new Int32Array(options.capacity);
    this.#length = new Int32Array(options.capacity);
    this.#kinds = new Uint8Array(options.capacity);
    this.#domA = new Int32Array(options.capacity);
    this.#domB = new Int32Array(options.capacity);
    this.#binary = new Uint8Array(options.capacity);
    this.#monoMs = new Float64Array(options.capacity);
    this.#view = ringView(this.#bytes);
    this.#lines = [new SendvLine(this.#view, this.#clock), new MemoryLine(this.#view, this.#clock)];
  }

  /** The seq the next event will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** The oldest seq still retained (== nextSeq when empty). */
  get oldestSeq(): number {
    return this.#oldestSeq;
  }

  /**
   * Whether events are being recorded: from the first subscriber on (the history file
   * subscribes at boot). Until then nobody could have asked for them, and recording costs the
   * data path, so the observer skips it; `append` itself always records.
   */
  get recording(): boolean {
    return this.#everSubscribed;
  }

  /**
   * Continues the seq of an earlier run of this hypervisor (history-seq.ts): the next event is
   * `reservation.firstSeq`, and a subscriber resuming from before it gets a `gap` saying the
   * restart lost those events. Only before anyone subscribed; anything retained is dropped.
   */
  continueFrom(reservation: SeqReservation): void {
    if (this.#subs.size > 0)
      throw new Error("the history's seq can only be continued before anyone subscribes");
    this.#reservation = reservation;
    this.#reservedThrough = reservation.reservedThrough;
    this.#firstSeq = this.#nextSeq = this.#oldestSeq = reservation.firstSeq;
    this.#writePos = 0;
  }

  /** The first seq of this run (1 unless it continues an earlier run's). */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  /** The next seq, reserved first when it is past the reservation (one compare per event). */
  #takeSeq(): number {
    const seq = this.#nextSeq++;
    if (seq > this.#reservedThrough && this.#reservation !== undefined)
      this.#reservedThrough = this.#reservation.reserve(seq);
    return seq;
  }

  /** Records from now on even before anyone subscribes (`--history-from-boot`). */
  startRecording(): void {
    this.#everSubscribed = true;
  }

  get subscriberCount(): number {
    return this.#subs.size;
  }

  /** Largest queue any live subscriber holds now (bytes). */
  bufferedBytesNow(): number {
    let max = 0;
    for (const s of this.#subs) max = Math.max(max, s.sink.bufferedAmount);
    return max;
  }

  /**
   * Records one event. `body` is the event's own fields (serialised here, once); `domA` and
   * `domB` are the domains it involves (NO_DOMID for none), for the `domid` filter.
   */
  append(kind: HistoryKind, domA: number, domB: number, body: object): number {
    return this.appendFields(kind, domA, domB, JSON.stringify(body).slice(1, -1));
  }

  /**
   * `append` with the body already serialised: `fields` is the inside of a JSON object
   * (`"a":1,"b":2`, or "" for none). The hot path (hypercalls) builds it without objects.
   */
  appendFields(kind: HistoryKind, domA: number, domB: number, fields: string): number {
    const seq = this.#takeSeq();
    const i = seq % this.capacity;
    let line = this.#line(seq, kind, fields);
    if (line.length * UTF8_PER_UNIT > this.#bytes.length)
      line = this.#line(seq, kind, `"truncated":true,"chars":${line.length}`);
    const pos = this.#placeFor(seq, line.length * UTF8_PER_UNIT);
    this.#commit(seq, i, pos, this.#bytes.write(line, pos));
    this.#binary[i] = TEXT;
    this.#indexed(i, KIND_INDEX.get(kind) ?? 0, domA, domB);
    return seq;
  }

  /**
   * Records a successful sendv as a binary record, its line rendered only when a subscriber
   * takes it (the hot path: see sendv-record.ts). `digest` is its payload's CRC-32, or
   * NO_DIGEST when the payload was not readable; `monoMs` is when it happened
   * (`performance.now()`, which the caller has already read).
   */
  appendSendv(fields: SendvFields, digest: number, monoMs = performance.now()): number {
    const bytes = sendvRecordBytes(fields.ret);
    const at = this.#appendRecord(SENDV_RECORD, bytes, fields.process, fields.dstDomid, monoMs);
    const seq = this.#nextSeq - 1;
    writeSendvRecord(this.#bytes, this.#view, at, seq, this.#clock, monoMs, fields, digest);
    return seq;
  }

  /**
   * Records a successful ReadMemory (`writeDigest` undefined) or WriteMemory (the CRC-32 of its
   * data) as a binary record (memory-record.ts).
   */
  appendMemoryOp(
    process: number,
    ret: number,
    gpa: number,
    len: number,
    writeDigest: number | undefined,
    monoMs = performance.now(),
  ): number {
    const bytes = memoryRecordBytes(writeDigest !== undefined);
    const at = this.#appendRecord(MEMORY_RECORD, bytes, process, NO_DOMID, monoMs);
    const seq = this.#nextSeq - 1;
    writeMemoryRecord(
      this.#bytes,
      this.#view,
      at,
      seq,
      this.#clock,
      monoMs,
      process,
      ret,
      gpa,
      len,
      writeDigest,
    );
    return seq;
  }

  /**
   * Takes the next seq for a binary record of `bytes` at `monoMs`; returns where to write it.
   * Records are not aligned: they follow one another byte for byte, as entries do in a frame.
   */
  #appendRecord(kind: number, bytes: number, domA: number, domB: number, monoMs: number): number {
    const seq = this.#takeSeq();
    const i = seq % this.capacity;
    const pos = this.#placeFor(seq, bytes);
    this.#commit(seq, i, pos, bytes);
    this.#binary[i] = kind;
    this.#monoMs[i] = monoMs;
    this.#indexed(i, HYPERCALL_KIND, domA, domB);
    return pos;
  }

  /** The slot's filter fields; schedules a pump for the subscribers. */
  #indexed(i: number, kind: number, domA: number, domB: number): void {
    this.#kinds[i] = kind;
    this.#domA[i] = domA;
    this.#domB[i] = domB;
    if (this.#subs.size > 0 && !this.#pumpScheduled) {
      this.#pumpScheduled = true;
      setImmediate(this.#pumpAll);
    }
  }

  /**
   * Adds a subscriber. A `since` older than the window starts it with a `gap` naming what was
   * lost; a `since` beyond the newest event is refused (a history from another run).
   */
  subscribe(sink: HistorySink, options: SubscribeOptions): HistorySubscription {
    const newest = this.#nextSeq - 1;
    if (options.since !== undefined && options.since > newest)
      throw new RangeError(
        `since ${options.since} is beyond the newest event (${newest}): is this history from another run?`,
      );
    if (options.last !== undefined && (!Number.isSafeInteger(options.last) || options.last < 1))
      throw new RangeError(`last ${options.last}: expected a positive integer`);
    if (options.last !== undefined && options.since !== undefined)
      throw new RangeError("since and last are exclusive: resume after a seq, or take the last N");
    const until = options.until === "now" ? newest : (options.until ?? Infinity);
    let mask = 0;
    for (const k of options.filter?.kinds ?? HISTORY_KINDS) mask |= 1 << (KIND_INDEX.get(k) ?? 0);
    const domid = options.filter?.domid ?? NO_DOMID;
    const sub: HistorySubscription = new HistorySubscription(
      sink,
      options.last !== undefined
        ? this.#startOfLast(options.last, mask, domid)
        : options.since === undefined
          ? this.#nextSeq
          : options.since + 1,
      mask,
      domid,
      options.closeWhenBehind,
      () => {
        sub.closed = true;
        this.#subs.delete(sub);
      },
      until,
    );
    if (sub.cursor < this.#firstSeq && sub.cursor <= until) {
      const to = Math.min(this.#firstSeq - 1, until);
      this.#gap(sub, to, RESTART_GAP_REASON, "restart");
      sub.cursor = to + 1;
    }
    if (sub.cursor < this.oldestSeq && sub.cursor <= until) {
      const to = Math.min(this.oldestSeq - 1, until);
      this.#gap(sub, to, "since is older than the retained window");
      sub.cursor = to + 1;
    }
    this.#subs.add(sub);
    this.#everSubscribed = true;
    this.#pump(sub);
    if (sub.cursor < this.#nextSeq) this.#scheduleRetry();
    return sub;
  }

  /** The seq of the oldest of the newest `n` retained events that pass the filter. */
  #startOfLast(n: number, mask: number, domid: number): number {
    let start = this.#nextSeq;
    for (let seq = this.#nextSeq - 1; seq >= this.oldestSeq && n > 0; seq--) {
      if (this.#passes(seq % this.capacity, mask, domid)) {
        start = seq;
        n--;
      }
    }
    return start;
  }

  /** Whether slot `i`'s event passes a subscriber's filter. */
  #passes(i: number, mask: number, domid: number): boolean {
    if ((mask & (1 << (this.#kinds[i] ?? 0))) === 0) return false;
    return domid === NO_DOMID || this.#domA[i] === domid || this.#domB[i] === domid;
  }

  /** Closes every subscriber (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const sub of [...this.#subs]) {
      sub.cancel();
      sub.sink.close(code, reason);
    }
    clearTimeout(this.#retry);
  }

  readonly #pumpAll = (): void => {
    this.#pumpScheduled = false;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    let behind = false;
    for (const sub of this.#subs) {
      this.#pump(sub);
      if (!sub.closed && sub.cursor < this.#nextSeq) behind = true;
    }
    if (behind) this.#scheduleRetry();
  };

  /** A sink that was full gets another chance even if no new event triggers a pump. */
  #scheduleRetry(): void {
    if (this.#retry !== undefined) return;
    this.#retry = setTimeout(this.#pumpAll, 20);
    this.#retry.unref();
  }

  #pump(sub: HistorySubscription): void {
    const { sink } = sub;
    if (sub.cursor < this.oldestSeq && sub.cursor <= sub.until) {
      // Overtaken: the events it still needed left the window before it took them.
      const full = sink.bufferedAmount >= this.#maxBuffered;
      if (sub.closeWhenBehind && (full || ++sub.lagEpisodes > this.#maxLagEpisodes)) {
        this.closedSubscribers++;
        this.droppedForSubscribers += this.#nextSeq - sub.cursor;
        sub.cancel();
        sink.close(
          full ? HISTORY_CLOSE.NOT_READING : HISTORY_CLOSE.FELL_BEHIND,
          full
            ? "history subscriber is not reading: its queue stayed full while the window moved on"
            : `history subscriber fell behind the retained window ${sub.lagEpisodes} times`,
        );
        return;
      }
      if (full) return; // the file: wait until its queue drains, then say what was lost
      const to = Math.min(this.#nextSeq - 1, sub.until);
      this.#gap(sub, to, "subscriber fell behind the retained window");
      sub.cursor = to + 1;
    }
    const end = Math.min(this.#nextSeq, sub.until + 1);
    while (sub.cursor < end) {
      if (sink.bufferedAmount >= this.#maxBuffered) break;
      const i = sub.cursor % this.capacity;
      sub.cursor++;
      if (!this.#passes(i, sub.kindMask, sub.domid)) continue;
      const offset = this.#offset[i] ?? 0;
      const length = this.#length[i] ?? 0;
      const kind = this.#binary[i] ?? TEXT;
      if (kind === TEXT) sink.send(this.#bytes.subarray(offset, offset + length));
      else if (sink.sendEntry !== undefined) sink.sendEntry(this.#bytes, offset, length);
      else {
        const line = (this.#lines[kind - 1] ?? this.#lines[0]).set(
          offset,
          sub.cursor - 1,
          this.#monoMs[i] ?? 0,
        );
        if (sink.sendLine !== undefined) sink.sendLine(line);
        else sink.send(this.#rendered.subarray(0, line.writeTo(this.#rendered, 0)));
      }
    }
    // Also after a gap sent by `subscribe` just before this pump.
    sink.flush?.();
    if (sink.bufferedAmount > this.peakBufferedBytes) this.peakBufferedBytes = sink.bufferedAmount;
    if (sub.cursor > sub.until) {
      sub.cancel();
      sink.close(HISTORY_CLOSE.DONE, `sent every event up to seq ${sub.until}`);
    }
  }

  /**
   * Where seq's bytes (at most `reserve` of them) go in the byte ring. The ring is written front
   * to back; an event that might not fit before the end goes to offset 0, and the previous
   * lap's events left past the last write (the oldest ones) are retired first.
   */
  #placeFor(seq: number, reserve: number): number {
    const pos = this.#writePos;
    if (pos + reserve <= this.#bytes.length) return pos;
    while (this.#oldestSeq < seq && (this.#offset[this.#oldestSeq % this.capacity] ?? 0) >= pos)
      this.#oldestSeq++;
    return 0;
  }

  /**
   * Seq's `n` bytes were written at `pos`: retires the oldest events whose bytes they covered
   * (or that fall outside `capacity`).
   */
  #commit(seq: number, i: number, pos: number, n: number): void {
    while (this.#oldestSeq < seq) {
      const o = this.#oldestSeq % this.capacity;
      const start = this.#offset[o] ?? 0;
      if (!(start < pos + n && pos < start + (this.#length[o] ?? 0))) break;
      this.#oldestSeq++;
    }
    if (seq - this.#oldestSeq >= this.capacity) this.#oldestSeq = seq - this.capacity + 1;
    this.#offset[i] = pos;
    this.#length[i] = n;
    this.#writePos = pos + n;
  }

  /**
   * Tells a subscriber that seqs from its cursor to `to` are lost to it; the gap carries `to`.
   * A gap the restart caused says `"cause":"restart"` (a harness may treat it differently from
   * falling behind: nothing it did lost those events).
   */
  #gap(sub: HistorySubscription, to: number, reason: string, cause?: "restart"): void {
    const dropped = to - sub.cursor + 1;
    this.droppedForSubscribers += dropped;
    const fields = `"from":${sub.cursor},"to":${to},"dropped":${dropped},"reason":"${reason}"`;
    sub.sink.send(
      Buffer.from(
        this.#line(to, "gap", cause === undefined ? fields : `${fields},"cause":"${cause}"`),
      ),
    );
  }

  #line(seq: number, kind: HistoryKind, fields: string): string {
    const head = `{"seq":${seq},"time":"${this.#clock.now()}","kind":"${kind}"`;
    return fields === "" ? `${head}}` : `${head},${fields}}`;
  }
}
