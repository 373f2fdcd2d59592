// SPDX-License-Identifier: Apache-2.0
/**
 * What every traffic worker process does, whatever carries its messages: answer the
 * orchestrator's IPC commands (see `ipc.ts`), run the saturated and the paced send loops on a
 * sender, and keep the per-phase `Tally` on a receiver. The hmx worker and the relay worker
 * only supply a transport, so both sides of the comparison run the very same loops.
 *
 * Every loop is bounded: the saturated loop by a message count and a deadline, the paced loop
 * by its count, a receiver's wait by the command's timeout. A worker exits when the
 * orchestrator goes away (IPC disconnect), so none outlives a failed run.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { tuneHeapForDataPath } from "@hmx/client";
import type {
  InitReport,
  PairsCommand,
  VirtioPartyCommand,
  ReceiveReport,
  Role,
  SendReport,
  TransportInit,
  WorkerCommand,
  WorkerFatal,
  WorkerReply,
} from "./ipc.js";
import { now, payloadTemplate, stampPayload } from "./payload.js";
import { Tally } from "./tally.js";

/** The sending half of a transport. */
export interface SenderTransport {
  /**
   * Queues one message. Returns a promise when the caller must wait before the next one
   * (back-pressure), undefined when it may go on at once. A send that fails for good makes a
   * later `send` or `flush` reject.
   */
  send(data: Buffer): Promise<void> | undefined;
  /** Resolves when every queued message was accepted by the transport. */
  flush(): Promise<void>;
  counters(): Record<string, number>;
  close(): Promise<void>;
}

/** The receiving half of a transport: calls `onMessage` for every message, in arrival order. */
export interface ReceiverTransport {
  counters(): Record<string, number>;
  close(): Promise<void>;
}

export interface TransportFactory {
  sender(init: TransportInit): Promise<{ transport: SenderTransport; info?: Partial<InitReport> }>;
  receiver(
    init: TransportInit,
    onMessage: (data: Buffer) => void,
  ): Promise<{ transport: ReceiverTransport; info?: Partial<InitReport> }>;
}

/** Longest a paced sender sleeps in one go; keeps the loop responsive. */
const MAX_PACE_SLEEP_MS = 50;

class WorkerState {
  role: Role | null = null;
  sender: SenderTransport | null = null;
  receiver: ReceiverTransport | null = null;
  tally: Tally | null = null;
  /** Wakes a `collect` waiting for the tally to reach its count. */
  onProgress: (() => void) | null = null;

  constructor(readonly factory: TransportFactory) {}

  onMessage = (data: Buffer): void => {
    this.tally?.observe(data);
    this.onProgress?.();
  };

  async handle(c: WorkerCommand): Promise<unknown> {
    switch (c.cmd) {
      case "init":
        return this.init(c.role, c.transport);
      case "arm":
        this.tally = new Tally({
          tag: c.tag,
          size: c.size,
          capacity: c.capacity,
          recordLatency: c.recordLatency,
        });
        return null;
      case "saturate":
        return this.saturate(c.tag, c.size, c.maxMessages, c.maxMs);
      case "paced":
        return this.paced(c.tag, c.size, c.count, c.ratePerSec);
      case "collect":
        return this.collect(c.expected, c.timeoutMs);
      case "close":
        await this.sender?.close();
        await this.receiver?.close();
        this.sender = null;
        this.receiver = null;
        return null;
    }
  }

  async init(role: Role, transport: TransportInit): Promise<InitReport> {
    if (this.role !== null) throw new Error("worker initialised twice");
    this.role = role;
    if (role === "sender") {
      const { transport: t, info } = await this.factory.sender(transport);
      this.sender = t;
      return { ...info, pid: process.pid };
    }
    const { transport: t, info } = await this.factory.receiver(transport, this.onMessage);
    this.receiver = t;
    return { ...info, pid: process.pid };
  }

  #needSender(): SenderTransport {
    if (this.sender === null) throw new Error("not a sender (init first)");
    return this.sender;
  }

  async saturate(
    tag: number,
    size: number,
    maxMessages: number,
    maxMs: number,
  ): Promise<SendReport> {
    const tx = this.#needSender();
    const template = payloadTemplate(size);
    const startAt = now();
    const deadline = startAt + maxMs;
    let count = 0;
    while (count < maxMessages) {
      // Reading the clock costs ~50 ns; check it every 64 messages all the same.
      if ((count & 63) === 0 && now() >= deadline) break;
      const wait = tx.send(stampPayload(template, count, tag));
      count++;
      if (wait !== undefined) await wait;
    }
    await tx.flush();
    return { count, startAt, endAt: now(), counters: tx.counters() };
  }

  async paced(tag: number, size: number, count: number, ratePerSec: number): Promise<SendReport> {
    const tx = this.#needSender();
    const template = payloadTemplate(size);
    const intervalMs = 1000 / ratePerSec;
    const startAt = now();
    let base = startAt;
    let k = 0; // index since `base`
    for (let i = 0; i < count; i++, k++) {
      let target = base + k * intervalMs;
      let ahead = target - now();
      // Fell behind by more than one interval (a timer fired late): restart the schedule
      // rather than sending the backlog as a burst that would queue behind itself.
      if (ahead < -intervalMs) {
        base = now();
        k = 0;
        target = base;
        ahead = 0;
      }
      while (ahead > 0) {
        await sleep(Math.min(ahead, MAX_PACE_SLEEP_MS));
        ahead = target - now();
      }
      const wait = tx.send(stampPayload(template, i, tag));
      if (wait !== undefined) await wait;
    }
    await tx.flush();
    return { count, startAt, endAt: now(), counters: tx.counters() };
  }

  async collect(expected: number, timeoutMs: number): Promise<ReceiveReport> {
    const rx = this.receiver;
    const tally = this.tally;
    if (rx === null || tally === null) throw new Error("not an armed receiver");
    const deadline = Date.now() + timeoutMs;
    let timedOut = false;
    while (tally.distinct < expected) {
      const left = deadline - Date.now();
      if (left <= 0) {
        timedOut = true;
        break;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.onProgress = () => {
          if (tally.distinct >= expected) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      this.onProgress = null;
    }
    // A short grace period so that a duplicate arriving right behind the last message is seen.
    await sleep(20);
    this.tally = null;
    return tally.report(expected, timedOut, rx.counters());
  }
}

function send(message: WorkerReply | WorkerFatal): void {
  process.send?.(message);
}

/**
 * Serves the orchestrator's IPC commands with `handle` (each answered by one reply of its id)
 * until `close`, then exits; with the heap tuned as in every measured process, an exit when
 * the orchestrator goes away, and any uncaught error reported as `fatal`.
 */
export function serveCommands(
  handle: (command: WorkerCommand | PairsCommand | VirtioPartyCommand) => Promise<unknown>,
): void {
  if (process.send === undefined) {
    console.error("this is a benchmark worker: run `node bench/dist/main.js` instead");
    process.exit(2);
  }
  // Same V8 settings in every measured process, hmx's and the baseline relay's alike.
  tuneHeapForDataPath();
  // The orchestrator died or closed the channel: never linger.
  process.on("disconnect", () => process.exit(0));
  const fatal = (err: unknown): void => {
    send({ fatal: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    setTimeout(() => process.exit(1), 100).unref();
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
  process.on("message", (raw: unknown) => {
    const request = raw as (WorkerCommand | PairsCommand | VirtioPartyCommand) & {
      readonly id: number;
    };
    handle(request).then(
      (result) => {
        send({ id: request.id, ok: true, result });
        if (request.cmd === "close") setTimeout(() => process.exit(0), 20);
      },
      (err: unknown) => {
        send({
          id: request.id,
          ok: false,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      },
    );
  });
}

/**
 * Runs this process as a worker with `factory`'s transport: serves IPC commands one at a time
 * (a `collect` may run while nothing else does) until `close`, then exits.
 */
export function runWorker(factory: TransportFactory): void {
  const state = new WorkerState(factory);
  serveCommands((c) => state.handle(c as WorkerCommand));
}
