// SPDX-License-Identifier: Apache-2.0
/**
 * A `HypercallClient` decorator that times every multicall (`batch`) of a guest: how many of
 * each shape (e.g. `writeMemory+sendv*4`, `readMemory`, `writeMemory+notify+readMemory`), their
 * total round-trip time, and how long at least one batch was in flight. It is how the benchmark
 * tells where the hmx path's time goes without touching the guest agent: a sender whose link
 * is busy ~100 % of the time is bound by round trips, one that is mostly idle is waiting for
 * something else (the ring, a VIRQ). Cost: two clock reads per batch.
 */
import { performance } from "node:perf_hooks";
import type {
  HypercallClient,
  HypercallOp,
} from "../../guest-agent/dist/hypercall/hypercall-client.js";

/** Running totals; `counters()` flattens them into the worker's counters. */
export class BatchTimings {
  readonly #shapes = new Map<
    string,
    { count: number; totalUs: number; maxUs: number; bytes: number }
  >();
  #inFlight = 0;
  #busySince = 0;
  #busyUs = 0;

  /** Records the start of a batch; returns its finish callback. */
  start(ops: readonly HypercallOp[]): () => void {
    const t0 = performance.now();
    if (this.#inFlight++ === 0) this.#busySince = t0;
    const shape = shapeOf(ops);
    const bytes = bytesOf(ops);
    return () => {
      const t1 = performance.now();
      if (--this.#inFlight === 0) this.#busyUs += (t1 - this.#busySince) * 1000;
      const us = (t1 - t0) * 1000;
      const s = this.#shapes.get(shape) ?? { count: 0, totalUs: 0, maxUs: 0, bytes: 0 };
      s.count++;
      s.totalUs += us;
      s.maxUs = Math.max(s.maxUs, us);
      s.bytes += bytes;
      this.#shapes.set(shape, s);
    };
  }

  /** `rtt.<shape>.count`, `.totalUs`, `.bytes`, and `linkBusyUs` (time with a batch in flight). */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    let busy = this.#busyUs;
    if (this.#inFlight > 0) busy += (performance.now() - this.#busySince) * 1000;
    out["linkBusyUs"] = Math.round(busy);
    for (const [shape, s] of this.#shapes) {
      out[`rtt.${shape}.count`] = s.count;
      out[`rtt.${shape}.totalUs`] = Math.round(s.totalUs);
      out[`rtt.${shape}.bytes`] = s.bytes;
    }
    return out;
  }
}

/** "writeMemory+sendv*4": op names, runs of the same op collapsed with a count. */
export function shapeOf(ops: readonly HypercallOp[]): string {
  const parts: string[] = [];
  let prev = "";
  let run = 0;
  const flush = (): void => {
    if (run > 0) parts.push(run === 1 ? prev : `${prev}*${run}`);
  };
  for (const o of ops) {
    if (o.op === prev) {
      run++;
      continue;
    }
    flush();
    prev = o.op;
    run = 1;
  }
  flush();
  return parts.join("+");
}

function bytesOf(ops: readonly HypercallOp[]): number {
  let n = 0;
  for (const o of ops) {
    if (o.op === "writeMemory") n += o.data.length;
    else if (o.op === "readMemory") n += o.length;
  }
  return n;
}

/** `client` with every `batch` timed into `timings`; everything else passes through. */
export function timedClient<C extends HypercallClient>(client: C, timings: BatchTimings): C {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === "batch") {
        return async (...args: Parameters<HypercallClient["batch"]>) => {
          const done = timings.start(args[0]);
          try {
            return await target.batch(...args);
          } finally {
            done();
          }
        };
      }
      // Bound to the real client: its methods use private fields.
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function"
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
