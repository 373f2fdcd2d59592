// SPDX-License-Identifier: Apache-2.0
/**
 * One direction of a relayed connection: bytes read from `source` go through the toxics
 * attached at the time (in the order they were added) and are written to `destination`.
 *
 * Reading and the toxics are decoupled by a small queue, so a latency toxic delays a stream
 * rather than throttling it (each chunk waits from when it was read), but the queue is bounded:
 * past `highWaterMark` bytes the source is paused, and a destination that stops draining stops
 * the toxics. No connection can make the hypervisor buffer without bound. With no toxic and
 * nothing queued, a chunk is written straight through (the cost of the layer when idle).
 */
import type { Readable, Writable } from "node:stream";
import type { Chunk, Next, ToxicStage } from "./toxic-stages.js";

interface Attached {
  readonly name: string;
  readonly stage: ToxicStage;
  readonly controller: AbortController;
}

export const PIPE_HIGH_WATER_MARK = 256 * 1024;

export class FaultPipe {
  private readonly queue: (Chunk | null)[] = [];
  private queuedBytes = 0;
  private attached: Attached[] = [];
  private wake: (() => void) | undefined;
  private stopped = false;
  /** The toxics loop is waiting for data (nothing queued, nothing in a toxic). */
  private idle = false;
  /** Bytes written to the destination so far. */
  delivered = 0;

  constructor(
    private readonly source: Readable,
    private readonly destination: Writable,
    private readonly now: () => number = Date.now,
    private readonly highWaterMark = PIPE_HIGH_WATER_MARK,
  ) {
    source.on("data", (data: Buffer) => {
      if (this.idle && this.attached.length === 0 && !this.stopped) {
        // No fault active: straight through, with the destination's own backpressure.
        this.delivered += data.length;
        if (!destination.write(data)) {
          source.pause();
          destination.once("drain", () => source.resume());
        }
        return;
      }
      this.queue.push({ data, time: this.now() });
      this.queuedBytes += data.length;
      if (this.queuedBytes > this.highWaterMark) source.pause();
      this.wakeUp();
    });
    source.on("end", () => {
      this.queue.push(null);
      this.wakeUp();
    });
    void this.run();
  }

  /** Starts a toxic's stage on this direction (replacing one of the same name). */
  attach(name: string, build: (signal: AbortSignal) => ToxicStage): void {
    this.detach(name);
    const controller = new AbortController();
    this.attached.push({ name, stage: build(controller.signal), controller });
  }

  /** Stops a toxic here; what it holds goes on. */
  detach(name: string): void {
    for (const a of this.attached) if (a.name === name) a.controller.abort();
    this.attached = this.attached.filter((a) => a.name !== name);
  }

  /** Names of the toxics acting on this direction now. */
  get toxics(): string[] {
    return this.attached.map((a) => a.name);
  }

  /** Stops moving bytes (the connection is closing): every stage is released, nothing is sent. */
  stop(): void {
    this.stopped = true;
    for (const a of this.attached) a.controller.abort();
    this.attached = [];
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async take(): Promise<Chunk | null | undefined> {
    while (this.queue.length === 0 && !this.stopped) {
      this.idle = true;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.idle = false;
    }
    if (this.stopped) return undefined;
    const item = this.queue.shift() ?? null;
    if (item !== null) {
      this.queuedBytes -= item.data.length;
      if (this.queuedBytes <= this.highWaterMark / 2 && this.source.isPaused())
        this.source.resume();
    }
    return item;
  }

  private async run(): Promise<void> {
    for (;;) {
      const item = await this.take();
      if (item === undefined) return;
      const stages = [...this.attached];
      if (item === null) {
        for (const a of stages) await a.stage.end?.();
        if (!this.stopped) this.destination.end();
        return;
      }
      const through =
        (i: number): Next =>
        (chunk) => {
          const a = stages[i];
          return a === undefined ? this.write(chunk) : a.stage.process(chunk, through(i + 1));
        };
      await through(0)(item);
    }
  }

  private write(chunk: Chunk): Promise<void> {
    if (this.stopped || this.destination.destroyed) return Promise.resolve();
    this.delivered += chunk.data.length;
    if (this.destination.write(chunk.data)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.destination.off("drain", done).off("close", done);
        resolve();
      };
      this.destination.on("drain", done).on("close", done);
    });
  }
}
