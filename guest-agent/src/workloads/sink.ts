// SPDX-License-Identifier: Apache-2.0
/**
 * The sink workload: receives numbered streams (see traffic.ts) and proves, per stream, that
 * nothing was lost, duplicated or reordered — the end-to-end check of the Argo guarantee that
 * each message is written once, in send order (argo-spec §1, [D] §HMX). A stream is one
 * (authenticated source domid, source aport, sender tag); each starts at sequence number 0.
 */
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import type { ArgoAddr } from "../hypercall/hypercall-client.js";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { readNumbered, receiveOrNull, type WorkloadBaseOptions } from "./common.js";

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
      s = { next: 0, missing: new Set() };
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

  /** The per-stream positions, to be kept across an agent restart (JSON-able). */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#streams].map(([k, s]) => [k, s.next]));
  }

  /**
   * Continues the streams a previous run of this agent was checking (see `snapshot`): a stream
   * then goes on exactly where it stopped, so a message lost across the restart is a gap. A
   * malformed snapshot is ignored.
   */
  restore(snapshot: unknown): void {
    if (typeof snapshot !== "object" || snapshot === null) return;
    for (const [key, next] of Object.entries(snapshot)) {
      if (!Number.isSafeInteger(next) || (next as number) < 0 || this.#streams.has(key)) continue;
      this.#streams.set(key, { next: next as number, missing: new Set() });
      this.stats.streams++;
    }
  }

  /** Next expected sequence number per stream key (`domid:aport:tag`). */
  expected(): Map<string, number> {
    return new Map([...this.#streams].map(([k, s]) => [k, s.next]));
  }
}

/** Runs the sink until `options.signal` aborts (or `count` messages arrived). */
export async function runSink(
  endpoint: ArgoEndpoint,
  options: SinkOptions,
  stats: SinkStats,
): Promise<void> {
  const socket = await endpoint.bind({
    aport: options.port,
    partner: options.partner ?? ARGO_DOMID_ANY,
    ...(options.ringLen === undefined ? {} : { ringLen: options.ringLen }),
  });
  const checker = new SequenceChecker(stats);
  const count = options.count ?? 0;
  try {
    options.onReady?.({ aport: socket.aport, partner: socket.partner });
    while (count === 0 || stats.received + stats.malformed < count) {
      const m = await receiveOrNull(socket, options.signal);
      if (m === null) break;
      checker.observe(m.source, m.data);
    }
  } finally {
    await socket.close();
  }
}
