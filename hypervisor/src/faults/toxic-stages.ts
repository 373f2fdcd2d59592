// SPDX-License-Identifier: Apache-2.0
/**
 * What each toxic does to one direction of one connection, with Toxiproxy 2.x's semantics
 * (toxics/*.go there), as a stage that passes chunks on to the next stage: delayed, sliced,
 * rationed, held or not at all. A stage whose toxic is removed lets what it holds go on
 * unchanged ("don't drop data on the floor", as Toxiproxy says).
 *
 * One deliberate difference: while a `timeout` toxic holds a link, hmx keeps the bytes sent and
 * delivers them when the toxic is removed, as TCP retransmission does once a black hole heals;
 * Toxiproxy discards them, which corrupts any framed protocol (gRPC's HTTP/2) for good.
 */
import type { ToxicSpec } from "./toxic-spec.js";

/** Bytes read from the source, stamped with the time they were read (ms). */
export interface Chunk {
  readonly data: Buffer;
  readonly time: number;
}

export type Next = (chunk: Chunk) => Promise<void>;

/** What a toxic may do to the whole connection it acts on. */
export interface ConnectionControl {
  /** Closes the connection both ways (FIN), after what was written has flushed. */
  close(reason: string): void;
  /** Drops the connection with a TCP RST on this direction's output. */
  reset(reason: string): void;
}

export interface ToxicStage {
  /** Passes one chunk on: changed, delayed, held, or not at all. */
  process(chunk: Chunk, next: Next): Promise<void>;
  /** The source ended: runs before the end is passed on. */
  end?(): Promise<void>;
}

export interface StageContext {
  /** Aborted when the toxic stops acting here (removed, updated, or the connection closed). */
  readonly signal: AbortSignal;
  readonly control: ConnectionControl;
  readonly random: () => number;
  readonly now: () => number;
}

/** Waits `ms` unless `signal` aborts first; true if the full time passed. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => {
      done(false);
    };
    const timer = setTimeout(() => {
      done(true);
    }, ms);
    signal.addEventListener("abort", onAbort);
  });
}

/** Builds the stage for `spec` on one direction of one connection. */
export function createStage(spec: ToxicSpec, ctx: StageContext): ToxicStage {
  const a = (name: string): number => spec.attributes[name] ?? 0;
  switch (spec.type) {
    case "latency":
      return latencyStage(a("latency"), a("jitter"), ctx);
    case "bandwidth":
      return bandwidthStage(a("rate"), ctx);
    case "slow_close":
      return {
        process: (chunk, next) => next(chunk),
        end: async () => {
          await sleep(a("delay"), ctx.signal);
        },
      };
    case "timeout":
      return timeoutStage(a("timeout"), ctx);
    case "reset_peer":
      return {
        // Toxiproxy resets on the first data after the toxic starts, `timeout` ms later.
        process: async (chunk, next) => {
          if (await sleep(a("timeout"), ctx.signal))
            ctx.control.reset(`reset_peer after ${a("timeout")} ms`);
          else await next(chunk);
        },
      };
    case "slicer":
      return slicerStage(a("average_size"), a("size_variation"), a("delay"), ctx);
    case "limit_data":
      return limitDataStage(a("bytes"), ctx);
  }
}

function latencyStage(latency: number, jitter: number, ctx: StageContext): ToxicStage {
  return {
    process: async (chunk, next) => {
      // Measured from when the chunk was read, so a stream of chunks is delayed, not throttled.
      const delay = latency + (jitter > 0 ? Math.floor(ctx.random() * 2 * jitter) - jitter : 0);
      const wait = delay - (ctx.now() - chunk.time);
      if (wait > 0) await sleep(wait, ctx.signal);
      await next({ data: chunk.data, time: chunk.time + Math.max(wait, 0) });
    },
  };
}

function bandwidthStage(rateKBps: number, ctx: StageContext): ToxicStage {
  // Time owed for bytes already passed (ms), so short chunks average out to the rate.
  let owed = 0;
  return {
    process: async (chunk, next) => {
      if (rateKBps <= 0 || ctx.signal.aborted) return next(chunk);
      let data = chunk.data;
      owed += data.length / rateKBps;
      // Large chunks go in 100 ms slices, as Toxiproxy does, so the rate holds within a chunk.
      const slice = rateKBps * 100;
      while (data.length > slice) {
        if (!(await sleep(100, ctx.signal))) break;
        await next({ data: data.subarray(0, slice), time: chunk.time });
        data = data.subarray(slice);
        owed -= 100;
      }
      const start = ctx.now();
      if (owed > 0) await sleep(owed, ctx.signal);
      owed -= ctx.now() - start;
      await next({ data, time: chunk.time });
    },
  };
}

function timeoutStage(timeoutMs: number, ctx: StageContext): ToxicStage {
  // The clock runs from when the toxic starts, whether or not data flows (Toxiproxy's timeout).
  if (timeoutMs > 0) {
    void sleep(timeoutMs, ctx.signal).then((elapsed) => {
      if (elapsed) ctx.control.close(`timeout after ${timeoutMs} ms`);
    });
  }
  const released = new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else
      ctx.signal.addEventListener(
        "abort",
        () => {
          resolve();
        },
        { once: true },
      );
  });
  return {
    process: async (chunk, next) => {
      await released;
      await next(chunk);
    },
    end: () => released,
  };
}

/** Toxiproxy's slicer: halve until within `variation` of `average`, moving each cut at random. */
export function sliceBounds(
  length: number,
  average: number,
  variation: number,
  random: () => number,
): number[] {
  const cuts: number[] = [];
  const split = (start: number, end: number): void => {
    if (end - start - average <= variation) {
      cuts.push(end);
      return;
    }
    let mid = start + Math.floor((end - start) / 2);
    if (variation > 0) mid += Math.floor(random() * 2 * variation) - variation;
    // A cut moved outside the range would recurse for ever; keep both halves non-empty.
    mid = Math.min(Math.max(mid, start + 1), end - 1);
    split(start, mid);
    split(mid, end);
  };
  split(0, length);
  return cuts;
}

function slicerStage(
  average: number,
  variation: number,
  delayMicros: number,
  ctx: StageContext,
): ToxicStage {
  return {
    process: async (chunk, next) => {
      let start = 0;
      for (const end of sliceBounds(chunk.data.length, average, variation, ctx.random)) {
        if (ctx.signal.aborted) break;
        await next({ data: chunk.data.subarray(start, end), time: chunk.time });
        start = end;
        if (delayMicros > 0) await sleep(delayMicros / 1000, ctx.signal);
      }
      // Removed mid-chunk: the rest goes on whole.
      if (start < chunk.data.length)
        await next({ data: chunk.data.subarray(start), time: chunk.time });
    },
  };
}

function limitDataStage(bytes: number, ctx: StageContext): ToxicStage {
  let passed = 0;
  return {
    process: async (chunk, next) => {
      if (ctx.signal.aborted) return next(chunk);
      const remaining = Math.max(bytes - passed, 0);
      const data = chunk.data.length > remaining ? chunk.data.subarray(0, remaining) : chunk.data;
      if (data.length > 0) {
        passed += data.length;
        await next({ data, time: chunk.time });
      }
      if (passed >= bytes) ctx.control.close(`limit_data reached ${bytes} bytes`);
    },
  };
}
