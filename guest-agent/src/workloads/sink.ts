// SPDX-License-Identifier: Apache-2.0
/**
 * The sink workload: receives numbered streams (see traffic.ts) and proves, per stream, that
 * nothing was lost, duplicated or reordered — the end-to-end check of the Argo guarantee that
 * each message is written once, in send order (argo-spec §1, [D] §HMX). A stream is one
 * (authenticated source domid, source aport, sender tag); each starts at sequence number 0.
 * The checker counts each message as the ring is drained and keeps its progress in guest
 * memory with the rx store (checker-state.ts), so a sink killed at any instant and restarted
 * resumes its counts: no false loss, no double count.
 */
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import type { ArgoAddr } from "../hypercall/hypercall-client.js";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import type { DgramSocket } from "../libargo/dgram-socket.js";
import {
  CHECKER_COUNTERS,
  readReceiveProgress,
  receiveProgressOp,
  type CheckerCounters,
  type ReceiveProgress,
} from "./checker-state.js";
import { readNumbered, type WorkloadBaseOptions } from "./common.js";

export interface SinkOptions extends WorkloadBaseOptions {
  readonly port: number;
  /** Only this domain may send; default any (wildcard ring, needs mac-permissive). */
  readonly partner?: number;
  readonly ringLen?: number;
  /** Stop after this many messages in total; 0 = until aborted. */
  readonly count?: number;
}

export interface SinkStats {
  /** Well-formed numbered messages received. */
  received: number;
  bytes: number;
  /** Distinct streams seen. */
  streams: number;
  /** Jumps forward in a stream's sequence. */
  gaps: number;
  /** Messages currently missing (skipped by a gap and not arrived late). */
  lost: number;
  /** Messages whose sequence number had already been received. */
  duplicates: number;
  /** Messages that arrived after a later one of their stream. */
  reordered: number;
  /** Messages too short to carry a sequence number. */
  malformed: number;
}

export function newSinkStats(): SinkStats {
  return {
    received: 0,
    bytes: 0,
    streams: 0,
    gaps: 0,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    malformed: 0,
  };
}

/** Most missing sequence numbers remembered per stream (to tell reordered from duplicate). */
const MAX_MISSING_TRACKED = 65_536;

interface StreamState {
  readonly domid: number;
  readonly aport: number;
  readonly tag: number;
  next: number;
  readonly missing: Set<number>;
}

/** Sequence checking for numbered streams, separate from I/O so that tests can drive it. */
export class SequenceChecker {
  readonly #streams = new Map<string, StreamState>();
  constructor(readonly stats: SinkStats) {}

  /** Accounts one received payload from `source`. */
  observe(source: ArgoAddr, data: Buffer): void {
    const n = readNumbered(data);
    if (n === null) {
      this.stats.malformed++;
      return;
    }
    this.stats.received++;
    this.stats.bytes += data.length;
    const key = `${source.domainId}:${source.aport}:${n.tag}`;
    let s = this.#streams.get(key);
    if (s === undefined) {
      s = { domid: source.domainId, aport: source.aport, tag: n.tag, next: 0, missing: new Set() };
      this.#streams.set(key, s);
      this.stats.streams++;
    }
    if (n.seq === s.next) {
      s.next++;
    } else if (n.seq > s.next) {
      this.stats.gaps++;
      this.stats.lost += n.seq - s.next;
      for (let q = s.next; q < n.seq && s.missing.size < MAX_MISSING_TRACKED; q++) s.missing.add(q);
      s.next = n.seq + 1;
    } else if (s.missing.delete(n.seq)) {
      this.stats.reordered++;
      this.stats.lost--;
    } else {
      this.stats.duplicates++;
    }
  }

  /** What this checker has counted, for its progress record (checker-state.ts). */
  progress(ring: { aport: number; partner: number }, rxPtr: number): ReceiveProgress {
    const counters = Object.fromEntries(
      CHECKER_COUNTERS.map((k) => [k, this.stats[k]]),
    ) as CheckerCounters;
    return { ...ring, rxPtr, counters, streams: [...this.#streams.values()] };
  }

  /**
   * Continues where a previous run of this agent stopped (its progress record): the counters
   * and every stream's next sequence number, so a message lost across the restart is a gap and
   * none is counted twice. The missing-message sets are not kept (only their count, `lost`):
   * a message that arrives late across a restart counts as a duplicate, not as reordered.
   */
  restore(p: ReceiveProgress): void {
    for (const k of CHECKER_COUNTERS) this.stats[k] = p.counters[k];
    for (const s of p.streams) {
      const key = `${s.domid}:${s.aport}:${s.tag}`;
      if (!this.#streams.has(key)) this.#streams.set(key, { ...s, missing: new Set() });
    }
    this.stats.streams = this.#streams.size;
  }

  /** Next expected sequence number per stream key (`domid:aport:tag`). */
  expected(): Map<string, number> {
    return new Map([...this.#streams].map(([k, s]) => [k, s.next]));
  }
}

/**
 * Binds `port` with `checker` as its inline consumer (dgram-socket.ts `InlineConsumer`): every
 * message is counted as the ring is drained, and, when the agent resumes after restarts, the
 * checker's progress rides in front of every rx store and is restored from the previous run's
 * record first (docs/state-guests.md). `onTake` runs after each message is counted.
 */
export async function bindChecked(
  endpoint: ArgoEndpoint,
  checker: SequenceChecker,
  bind: { aport: number; partner: number; ringLen?: number },
  onTake?: () => void,
): Promise<DgramSocket> {
  const ring = { aport: bind.aport, partner: bind.partner };
  let resumeRx: number | undefined;
  if (endpoint.resuming) {
    const previous = await readReceiveProgress(endpoint.client);
    if (previous?.aport === ring.aport && previous.partner === ring.partner) {
      checker.restore(previous);
      resumeRx = previous.rxPtr;
    }
  }
  return endpoint.bind({
    ...bind,
    ...(resumeRx === undefined ? {} : { resumeRx }),
    consumer: {
      take: (m) => {
        checker.observe(m.source, m.data);
        onTake?.();
      },
      progressOps: (rxPtr) =>
        endpoint.resuming ? [receiveProgressOp(checker.progress(ring, rxPtr))] : [],
    },
  });
}

/** Runs the sink until `options.signal` aborts (or `count` messages arrived). */
export async function runSink(
  endpoint: ArgoEndpoint,
  options: SinkOptions,
  stats: SinkStats,
): Promise<void> {
  const checker = new SequenceChecker(stats);
  const count = options.count ?? 0;
  const reached = new AbortController();
  const socket = await bindChecked(
    endpoint,
    checker,
    {
      aport: options.port,
      partner: options.partner ?? ARGO_DOMID_ANY,
      ...(options.ringLen === undefined ? {} : { ringLen: options.ringLen }),
    },
    () => {
      if (count > 0 && stats.received + stats.malformed >= count) reached.abort();
    },
  );
  try {
    options.onReady?.({ aport: socket.aport, partner: socket.partner });
    // The checker counts as the ring drains; this only waits for the end.
    await waitForAbort(AbortSignal.any([options.signal, reached.signal]));
  } finally {
    await socket.close();
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      "abort",
      () => {
        resolve();
      },
      { once: true },
    );
  });
}
