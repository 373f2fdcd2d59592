// SPDX-License-Identifier: Apache-2.0
/**
 * What the workloads share: the numbered payload format (an 8-byte sequence number and a
 * 4-byte sender tag, little-endian, then filler), a log-bucket latency histogram for RTT
 * percentiles, waiting for a peer's ring to exist (notify with `space_required = 0`, argo-spec
 * §3.5 step 5: EXISTS tells the ring is there, and nothing is queued), and the options every
 * workload takes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ArgoRingFlag } from "@hmx/proto/abi";
import type { ArgoAddr } from "../hypercall/hypercall-client.js";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import type { DgramSocket } from "../libargo/dgram-socket.js";

/** Options every workload takes. */
export interface WorkloadBaseOptions {
  /** Stops the workload; it then closes its socket and resolves. */
  readonly signal: AbortSignal;
  /** Called once the workload's socket is bound (and, for senders, the peer is reachable). */
  readonly onReady?: (info: { readonly aport: number; readonly partner: number }) => void;
}

/** Bytes of the numbered header: u64 sequence number, u32 sender tag. */
export const NUMBERED_HEADER_SIZE = 12;

/** Writes the sequence number and tag at the start of `buf` (which has >= 12 bytes). */
export function writeNumbered(buf: Buffer, seq: number, tag: number): void {
  // Two u32 halves rather than a BigInt: seq stays a safe integer for any realistic run.
  buf.writeUInt32LE(seq % 0x100000000, 0);
  buf.writeUInt32LE(Math.floor(seq / 0x100000000), 4);
  buf.writeUInt32LE(tag >>> 0, 8);
}

/** Reads a numbered payload; null when it is too short to be one. */
export function readNumbered(buf: Buffer): { seq: number; tag: number } | null {
  if (buf.length < NUMBERED_HEADER_SIZE) return null;
  return {
    seq: buf.readUInt32LE(4) * 0x100000000 + buf.readUInt32LE(0),
    tag: buf.readUInt32LE(8),
  };
}

/** A numbered payload of `size` bytes (>= 12): the header then a deterministic filler. */
export function numberedPayload(size: number, seq: number, tag: number): Buffer {
  const buf = Buffer.alloc(size, seq & 0xff);
  writeNumbered(buf, seq, tag);
  return buf;
}

/**
 * Latency histogram with ~4.4 % wide buckets (16 per power of two of microseconds): constant
 * memory and cheap percentile queries, so stats can be refreshed after every sample.
 */
export class LatencyHistogram {
  static readonly #SUB = 16;
  readonly #counts: number[] = [];
  #total = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  record(us: number): void {
    const v = Math.max(0, us);
    const i = Math.floor(Math.log2(v + 1) * LatencyHistogram.#SUB);
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#total++;
    this.#min = Math.min(this.#min, v);
    this.#max = Math.max(this.#max, v);
  }

  get count(): number {
    return this.#total;
  }

  /** The p-th percentile (0..100) in microseconds, rounded; 0 with no samples. */
  percentile(p: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#total));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) {
        // The bucket's upper bound, clamped to what was actually seen.
        const upper = 2 ** ((i + 1) / LatencyHistogram.#SUB) - 1;
        return Math.round(Math.min(Math.max(upper, this.#min), this.#max));
      }
    }
    return Math.round(this.#max);
  }

  get min(): number {
    return this.#total === 0 ? 0 : Math.round(this.#min);
  }

  get max(): number {
    return Math.round(this.#max);
  }
}

/**
 * Waits until `dst`'s ring exists for us (notify flags EXISTS), polling every `pollMs`. Sending
 * before the peer has bound would fail with ECONNREFUSED and, for numbered traffic, show up at
 * the sink as a gap that Argo did not cause. Resolves false if `signal` aborts first.
 */
export async function waitForPeer(
  endpoint: ArgoEndpoint,
  dst: ArgoAddr,
  signal: AbortSignal,
  pollMs = 200,
): Promise<boolean> {
  while (!signal.aborted) {
    const { ret, entries } = await endpoint.client.notify([{ ring: dst, spaceRequired: 0 }]);
    const flags = entries[0]?.flags ?? 0;
    if (ret === 0 && (flags & ArgoRingFlag.EXISTS) !== 0) return true;
    try {
      await sleep(pollMs, undefined, { signal });
    } catch {
      return false;
    }
  }
  return false;
}

/** `signal.aborted` through a call, so that checks after an await are not narrowed away. */
export function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** Receives the next message, or null when the socket closed or `signal` aborted. */
export async function receiveOrNull(
  socket: DgramSocket,
  signal: AbortSignal,
): Promise<Awaited<ReturnType<DgramSocket["receive"]>>> {
  if (isAborted(signal)) return null;
  try {
    return await socket.receive({ signal });
  } catch (err) {
    if (isAborted(signal)) return null;
    throw err;
  }
}

/** Count of the sends this workload has not seen settle, and a way to wait for room. */
export class SendWindow {
  #outstanding = 0;
  #waiters: (() => void)[] = [];
  constructor(readonly limit: number) {}

  get outstanding(): number {
    return this.#outstanding;
  }

  /** Tracks `p`; resolves once fewer than `limit` sends are outstanding. */
  async add(p: Promise<unknown>): Promise<void> {
    this.#outstanding++;
    void p
      .finally(() => {
        this.#outstanding--;
        this.#waiters.shift()?.();
      })
      .catch(() => undefined);
    while (this.#outstanding >= this.limit) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Resolves when every tracked send has settled. */
  async drain(): Promise<void> {
    while (this.#outstanding > 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

/** The pending sleeps of each signal, all woken by the one abort listener that signal gets. */
const sleepers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Waits `ms`; resolves true when the time is up, false if `signal` aborts first (or already
 * has). Unlike `timers/promises`' `setTimeout(ms, v, { signal })`, which adds an abort listener
 * per pending call, all the pending sleeps of one signal share a single listener: the fleet
 * workload paces one stream per peer on the same stop signal, and one listener per peer made
 * node warn (MaxListenersExceededWarning) in every guest's JSON log past ten peers.
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  let pending = sleepers.get(signal);
  if (pending === undefined) {
    const set = new Set<() => void>();
    pending = set;
    sleepers.set(signal, set);
    signal.addEventListener(
      "abort",
      () => {
        for (const wake of [...set]) wake();
      },
      { once: true },
    );
  }
  const set = pending;
  return new Promise<boolean>((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      set.delete(wake);
      resolve(false);
    };
    const timer = setTimeout(() => {
      set.delete(wake);
      resolve(true);
    }, ms);
    set.add(wake);
  });
}
