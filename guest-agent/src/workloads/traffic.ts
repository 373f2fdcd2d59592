// SPDX-License-Identifier: Apache-2.0
/**
 * The traffic workload: a stream of numbered datagrams (u64 sequence number and a random
 * per-run u32 tag, then filler, see common.ts) to a sink, at a fixed rate or as fast as the
 * rings allow. Sends are pipelined up to a window so that the socket can batch them; the
 * socket keeps them in order and waits out full rings, so every message the hypervisor
 * accepted reaches the sink exactly once, in order — which the sink checks.
 *
 * A sender that resumes after restarts (`--state-dir`) keeps its stream's tag and a lower bound
 * of what the hypervisor accepted in guest memory (checker-state.ts "Send progress"). It cannot
 * know whether its last sendvs were accepted before it died, so a restarted sender does not
 * guess a sequence number to continue from: it starts a new epoch of its stream (tag + 1,
 * seq 0), which the sink sees as a new stream, never as a loss or a duplicate.
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import type { DgramSocket } from "../libargo/dgram-socket.js";
import { ArgoSocketError } from "../libargo/errors.js";
import { readSendProgress, writeSendProgress, type SendProgress } from "./checker-state.js";
import { numberedPayload, SendWindow, waitForPeer, type WorkloadBaseOptions } from "./common.js";

export interface TrafficOptions extends WorkloadBaseOptions {
  readonly peer: number;
  /** The sink's port. */
  readonly port: number;
  /** Payload bytes (>= 12). */
  readonly size: number;
  /** Messages to send; 0 = until aborted. */
  readonly count: number;
  /** Messages per second; 0 = as fast as possible. */
  readonly rate: number;
  /** Most sends outstanding at once; default 1024. */
  readonly window?: number;
  /** The sender tag; default random (a restarted sender is a new stream). */
  readonly tag?: number;
}

export interface TrafficStats {
  sent: number;
  bytes: number;
  errors: number;
  eagains: number;
  /** Sends queued and not yet accepted by the hypervisor. */
  pending: number;
  /** This run's stream tag: a resumed sender's is its previous run's + 1 (a new epoch). */
  tag: number;
  /** What the previous run's record said it had sent at least (0: no previous run). */
  previousSentAtLeast: number;
}

export function newTrafficStats(): TrafficStats {
  return { sent: 0, bytes: 0, errors: 0, eagains: 0, pending: 0, tag: 0, previousSentAtLeast: 0 };
}

/** How often a resumable sender refreshes its lower bound of accepted messages. */
const SEND_PROGRESS_EVERY_MS = 100;

/**
 * Binds the sender's socket and picks this run's tag. A resumable sender binds its previous
 * run's ring again (`previousAport`: it resumes instead of piling up, one per restart) and takes the
 * epoch after that run's, recorded before its first send, so that no two runs can ever send
 * the same (tag, seq).
 */
async function startEpoch(
  endpoint: ArgoEndpoint,
  options: TrafficOptions,
  stats: TrafficStats,
): Promise<{ socket: DgramSocket; tag: number }> {
  const fresh = () => options.tag ?? randomInt(0, 0x100000000);
  if (!endpoint.resuming)
    return { socket: await endpoint.bind({ partner: options.peer }), tag: fresh() };
  const previous = await readSendProgress(endpoint.client);
  const same = previous?.peer === options.peer && previous.port === options.port;
  const aport = endpoint.previousAport(options.peer);
  const socket = await endpoint.bind({
    partner: options.peer,
    ...(aport === undefined ? {} : { aport }),
  });
  const tag = same ? (previous.tag + 1) >>> 0 : fresh();
  if (same) stats.previousSentAtLeast = previous.acceptedAtLeast;
  const ret = await writeSendProgress(endpoint.client, sendProgress(options, tag, 0));
  if (ret < 0) {
    await socket.close();
    throw new Error(`could not record the stream epoch: WriteMemory ret ${ret}`);
  }
  return { socket, tag };
}

function sendProgress(options: TrafficOptions, tag: number, sent: number): SendProgress {
  return { tag, peer: options.peer, port: options.port, acceptedAtLeast: sent };
}

/** Runs traffic until `count` messages are accepted (or failed) or `options.signal` aborts. */
export async function runTraffic(
  endpoint: ArgoEndpoint,
  options: TrafficOptions,
  stats: TrafficStats,
): Promise<void> {
  const { signal } = options;
  const { socket, tag } = await startEpoch(endpoint, options, stats);
  const dst = { domainId: options.peer, aport: options.port };
  stats.tag = tag;
  const window = new SendWindow(options.window ?? 1024);
  const unmirror = mirrorSocketCounters(stats, socket);
  // A lower bound is all a record can hold (module comment): refreshed on a timer, not per send.
  let recorded = 0;
  const record = async (): Promise<void> => {
    if (stats.sent === recorded) return;
    recorded = stats.sent;
    await writeSendProgress(endpoint.client, sendProgress(options, tag, recorded)).catch(
      () => undefined,
    );
  };
  const recorder = endpoint.resuming
    ? setInterval(() => void record(), SEND_PROGRESS_EVERY_MS)
    : undefined;
  try {
    if (!(await waitForPeer(endpoint, dst, signal))) return;
    options.onReady?.({ aport: socket.aport, partner: socket.partner });
    const started = performance.now();
    for (let seq = 0; (options.count === 0 || seq < options.count) && !signal.aborted; seq++) {
      if (options.rate > 0) {
        // Message `seq` is due at started + seq / rate; sleep only when ahead (>= 1 ms).
        const aheadMs = started + (seq * 1000) / options.rate - performance.now();
        if (aheadMs >= 1) {
          try {
            await sleep(aheadMs, undefined, { signal });
          } catch {
            break;
          }
        }
      }
      const size = options.size;
      const p = socket.sendTo(dst, numberedPayload(size, seq, tag)).then(
        () => {
          stats.sent++;
          stats.bytes += size;
        },
        (err: unknown) => {
          if (!(err instanceof ArgoSocketError && err.code === "ESHUTDOWN")) stats.errors++;
        },
      );
      await window.add(p);
    }
    // Let what was queued be accepted (unless stopped): a counted run ends with all of it sent.
    if (!signal.aborted) await window.drain();
  } finally {
    await socket.close();
    await window.drain();
    clearInterval(recorder);
    if (endpoint.resuming) await record();
    unmirror();
  }
}

/**
 * While the run lasts, `eagains` and `pending` read the socket's own counters, so a stats record
 * taken while the sender is stalled on a full ring shows the stall (copies made after each send
 * would show the state before it). Returns the function that freezes their final values.
 */
function mirrorSocketCounters(stats: TrafficStats, socket: DgramSocket): () => void {
  const live = (read: () => number): PropertyDescriptor => ({
    get: read,
    enumerable: true,
    configurable: true,
  });
  Object.defineProperties(stats, {
    eagains: live(() => socket.stats.eagains),
    pending: live(() => socket.pendingSends),
  });
  return () => {
    const fixed = (value: number): PropertyDescriptor => ({
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    Object.defineProperties(stats, { eagains: fixed(socket.stats.eagains), pending: fixed(0) });
  };
}
