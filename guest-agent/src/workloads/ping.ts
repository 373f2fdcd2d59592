// SPDX-License-Identifier: Apache-2.0
/**
 * The ping workload: sends numbered datagrams to an echo peer one at a time and measures each
 * round trip (send accepted by the hypervisor, echoed, delivered back through our ring). It
 * binds a unicast ring that accepts only the peer, as the Linux driver's CONNECT auto-bind does
 * (argo-spec §7.1). A reply that does not come within `timeoutMs` counts as lost; a late one
 * arriving afterwards is counted and ignored.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { randomInt } from "node:crypto";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { ArgoSocketError } from "../libargo/errors.js";
import {
  isAborted,
  LatencyHistogram,
  numberedPayload,
  readNumbered,
  waitForPeer,
  type WorkloadBaseOptions,
} from "./common.js";

export interface PingOptions extends WorkloadBaseOptions {
  /** Domid of the echo peer. */
  readonly peer: number;
  /** The echo peer's port. */
  readonly port: number;
  /** Pings to send; 0 = until aborted. */
  readonly count: number;
  /** Pause between pings, in ms. */
  readonly intervalMs: number;
  /** Payload bytes (>= 12: sequence number and tag). */
  readonly size: number;
  /** How long to wait for each reply; default 1000 ms. */
  readonly timeoutMs?: number;
}

export interface PingStats {
  sent: number;
  received: number;
  lost: number;
  late: number;
  errors: number;
  bytes: number;
  eagains: number;
  rttMinUs: number;
  rttP50Us: number;
  rttP99Us: number;
  rttMaxUs: number;
}

export function newPingStats(): PingStats {
  return {
    sent: 0,
    received: 0,
    lost: 0,
    late: 0,
    errors: 0,
    bytes: 0,
    eagains: 0,
    rttMinUs: 0,
    rttP50Us: 0,
    rttP99Us: 0,
    rttMaxUs: 0,
  };
}

/** Runs ping until `count` pings are done or `options.signal` aborts. */
export async function runPing(
  endpoint: ArgoEndpoint,
  options: PingOptions,
  stats: PingStats,
): Promise<void> {
  const { signal } = options;
  // A resumed pinger takes its previous ring back (a new tag all the same: replies to the
  // previous run's pings count as late, never as lost).
  const aport = endpoint.previousAport(options.peer);
  const socket = await endpoint.bind({
    partner: options.peer,
    ...(aport === undefined ? {} : { aport }),
  });
  const dst = { domainId: options.peer, aport: options.port };
  const tag = randomInt(0, 0x100000000);
  const rtt = new LatencyHistogram();
  try {
    if (!(await waitForPeer(endpoint, dst, signal))) return;
    options.onReady?.({ aport: socket.aport, partner: socket.partner });
    for (let seq = 0; (options.count === 0 || seq < options.count) && !signal.aborted; seq++) {
      const started = performance.now();
      try {
        await socket.sendTo(dst, numberedPayload(options.size, seq, tag));
        stats.sent++;
        stats.bytes += options.size;
      } catch (err) {
        if (err instanceof ArgoSocketError && err.code === "ESHUTDOWN") break;
        stats.errors++;
        await pause(options.intervalMs, signal);
        continue;
      }
      const replied = await awaitReply(socket, seq, tag, options.timeoutMs ?? 1000, signal, stats);
      if (replied) {
        rtt.record((performance.now() - started) * 1000);
        stats.received++;
        stats.rttMinUs = rtt.min;
        stats.rttP50Us = rtt.percentile(50);
        stats.rttP99Us = rtt.percentile(99);
        stats.rttMaxUs = rtt.max;
      } else if (!isAborted(signal)) {
        stats.lost++;
      }
      stats.eagains = socket.stats.eagains;
      await pause(options.intervalMs, signal);
    }
  } finally {
    await socket.close();
  }
}

async function awaitReply(
  socket: Awaited<ReturnType<ArgoEndpoint["bind"]>>,
  seq: number,
  tag: number,
  timeoutMs: number,
  signal: AbortSignal,
  stats: PingStats,
): Promise<boolean> {
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    timeout.abort();
  }, timeoutMs);
  const both = AbortSignal.any([signal, timeout.signal]);
  try {
    for (;;) {
      const m = await socket.receive({ signal: both });
      if (m === null) return false;
      const n = readNumbered(m.data);
      if (n?.tag === tag && n.seq === seq) return true;
      stats.late++; // an earlier ping's reply, after its timeout
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted: the loop condition ends the run
  }
}
