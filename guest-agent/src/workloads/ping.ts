// SPDX-License-Identifier: Apache-2.0
/**
 * The ping workload: sends numbered datagrams to an echo peer one at a time and measures each
 * round trip (send accepted by the hypervisor, echoed, delivered back through our ring). It
 * binds a unicast ring that accepts only the peer, as the Linux driver's CONNECT auto-bind does
 * (argo-spec §7.1). A reply that does not come within `timeoutMs` counts as lost; a late one
 * arriving afterwards is counted as late, a second reply to an answered ping as a re-delivery.
 *
 * Crash consistency (docs/state-guests.md, checker-state.ts "Ping progress"): replies are
 * counted as the ring drains (an inline consumer), and the pinger's progress rides in front
 * of every rx store and is written before each send. A pinger killed at any instant resumes
 * with its tag, counters and next sequence number; the ping that may have been out when it
 * died is sent again, so no ping is lost for the kill and a double reply is a re-delivery.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { randomInt } from "node:crypto";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { ArgoSocketError } from "../libargo/errors.js";
import {
  encodePingProgress,
  PING_ACCEPTED,
  PING_COUNTERS,
  PING_IDLE,
  PING_SENDING,
  pingProgressOp,
  readPingProgress,
  RECEIVE_PROGRESS_GPA,
  type PingProgress,
} from "./checker-state.js";
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
  /** Pings to send; 0 = until aborted. A resumed pinger counts the previous runs' pings. */
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
  /** Second replies to a ping already answered (a ping sent again after a restart). */
  redelivered: number;
  /** Pings sent again by a restarted pinger (they may have gone out before it died). */
  resent: number;
  errors: number;
  bytes: number;
  eagains: number;
  /** The next sequence number (pings done so far, across restarts). */
  next: number;
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
    redelivered: 0,
    resent: 0,
    errors: 0,
    bytes: 0,
    eagains: 0,
    next: 0,
    rttMinUs: 0,
    rttP50Us: 0,
    rttP99Us: 0,
    rttMaxUs: 0,
  };
}

/**
 * What the pinger knows, counted in `stats`: which ping is out and which recent ones were
 * answered. Replies are taken synchronously as the ring drains (`reply`), so the record of this
 * state (`record`) always matches the rx_ptr it rides with.
 */
class PingTracker {
  /** The state of ping `stats.next` (PING_IDLE / PING_SENDING / PING_ACCEPTED). */
  #outstanding = PING_IDLE;
  /** Bit i: ping `next - 1 - i` was answered. */
  #answered = 0;
  #rxPtr = 0;
  /** Ping `next` was restored as possibly out: its next send is a resend. */
  #resending = false;
  /** The size of ping `next`. */
  #bytes = 0;
  #waiter: (() => void) | null = null;

  constructor(
    readonly stats: PingStats,
    public tag: number,
  ) {}

  /** Takes over a previous run's record; returns the rx_ptr its counts go with. */
  restore(p: PingProgress): number {
    this.tag = p.tag;
    for (const k of PING_COUNTERS) this.stats[k] = p.counters[k];
    this.#outstanding = p.outstanding;
    this.#resending = p.outstanding !== PING_IDLE;
    this.#answered = p.answered;
    this.#rxPtr = p.rxPtr;
    return p.rxPtr;
  }

  /** The record of this state, going with `rxPtr` (the last one recorded when omitted). */
  record(ring: { aport: number; peer: number; port: number }, rxPtr = this.#rxPtr): PingProgress {
    this.#rxPtr = rxPtr;
    const counters = Object.fromEntries(PING_COUNTERS.map((k) => [k, this.stats[k]]));
    return {
      tag: this.tag,
      ...ring,
      rxPtr,
      outstanding: this.#outstanding,
      answered: this.#answered,
      counters: counters as PingProgress["counters"],
    };
  }

  /** Ping `next`, of `bytes`, is about to go out (again, after a restart: `resent`). */
  sending(bytes: number): void {
    this.#bytes = bytes;
    if (this.#resending) this.stats.resent++;
    this.#resending = false;
    if (this.#outstanding === PING_IDLE) this.#outstanding = PING_SENDING;
  }

  /**
   * The hypervisor accepted ping `seq`: counted sent once however often it went out, and not
   * again if its reply, which proves it went out, was taken first.
   */
  accepted(seq: number): void {
    if (this.stats.next === seq && this.#outstanding === PING_SENDING) this.#countSent();
  }

  #countSent(): void {
    this.#outstanding = PING_ACCEPTED;
    this.stats.sent++;
    this.stats.bytes += this.#bytes;
  }

  /** Ping `next` is done with: answered, or not (lost, or never sent). */
  #advance(answered: boolean): void {
    this.#answered = ((this.#answered << 1) | (answered ? 1 : 0)) >>> 0;
    this.#outstanding = PING_IDLE;
    this.stats.next++;
  }

  /** Ping `next` failed to send for good: not lost, an error. */
  failed(): void {
    this.stats.errors++;
    this.#advance(false);
  }

  /** No reply to ping `seq` within the timeout. */
  timedOut(seq: number): void {
    if (this.stats.next !== seq) return; // answered meanwhile
    this.stats.lost++;
    this.#advance(false);
  }

  /** A datagram from the peer, as the ring drains. */
  reply(data: Buffer): void {
    const n = readNumbered(data);
    const next = this.stats.next;
    if (n?.tag !== this.tag || n.seq > next) {
      this.stats.late++; // another run's (a pinger without a record) or not ours to place
      return;
    }
    if (n.seq === next) {
      if (this.#outstanding === PING_IDLE) {
        this.stats.late++;
        return;
      }
      if (this.#outstanding === PING_SENDING) this.#countSent();
      this.stats.received++;
      this.#advance(true);
      this.#waiter?.();
      return;
    }
    const age = next - 1 - n.seq;
    if (age < 32 && ((this.#answered >>> age) & 1) === 1) this.stats.redelivered++;
    else this.stats.late++; // its ping was counted lost (or is older than we can tell)
  }

  /** Resolves true once ping `seq` is answered, false after `timeoutMs` or on abort. */
  answered(seq: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.stats.next > seq) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#waiter = null;
        resolve(ok);
      };
      const onAbort = (): void => {
        done(false);
      };
      const timer = setTimeout(() => {
        done(false);
      }, timeoutMs);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiter = () => {
        done(true);
      };
    });
  }
}

/** Runs ping until `count` pings are done or `options.signal` aborts. */
export async function runPing(
  endpoint: ArgoEndpoint,
  options: PingOptions,
  stats: PingStats,
): Promise<void> {
  const { signal } = options;
  const tracker = new PingTracker(stats, randomInt(0, 0x100000000));
  // A resumed pinger takes its previous ring back, and its record with it.
  const aport = endpoint.previousAport(options.peer);
  let resumeRx: number | undefined;
  if (endpoint.resuming && aport !== undefined) {
    const previous = await readPingProgress(endpoint.client);
    if (
      previous?.aport === aport &&
      previous.peer === options.peer &&
      previous.port === options.port
    )
      resumeRx = tracker.restore(previous);
  }
  const ring = { aport: aport ?? 0, peer: options.peer, port: options.port };
  const socket = await endpoint.bind({
    partner: options.peer,
    ...(aport === undefined ? {} : { aport }),
    ...(resumeRx === undefined ? {} : { resumeRx }),
    consumer: {
      take: (m) => {
        tracker.reply(m.data);
      },
      progressOps: (rxPtr) =>
        endpoint.resuming ? [pingProgressOp(tracker.record(ring, rxPtr))] : [],
    },
  });
  // Set before any reply can arrive (none is sent yet), so every record names the ring; a
  // resumed ring's replies are recorded under the same aport, known before the bind.
  ring.aport = socket.aport;
  const dst = { domainId: options.peer, aport: options.port };
  const rtt = new LatencyHistogram();
  try {
    if (!(await waitForPeer(endpoint, dst, signal))) return;
    options.onReady?.({ aport: socket.aport, partner: socket.partner });
    while ((options.count === 0 || stats.next < options.count) && !signal.aborted) {
      const seq = stats.next;
      tracker.sending(options.size);
      // The ping that may go out is on record before it can (a restart sends it again).
      if (endpoint.resuming) {
        const ret = await endpoint.client.writeMemory(
          RECEIVE_PROGRESS_GPA,
          encodePingProgress(tracker.record(ring)),
        );
        if (ret < 0) throw new Error(`ping progress record write failed: ret ${ret}`);
      }
      const started = performance.now();
      try {
        await socket.sendTo(dst, numberedPayload(options.size, seq, tracker.tag));
        tracker.accepted(seq);
      } catch (err) {
        if (err instanceof ArgoSocketError && err.code === "ESHUTDOWN") break;
        tracker.failed();
        await pause(options.intervalMs, signal);
        continue;
      }
      if (await tracker.answered(seq, options.timeoutMs ?? 1000, signal)) {
        rtt.record((performance.now() - started) * 1000);
        stats.rttMinUs = rtt.min;
        stats.rttP50Us = rtt.percentile(50);
        stats.rttP99Us = rtt.percentile(99);
        stats.rttMaxUs = rtt.max;
      } else if (!isAborted(signal)) {
        tracker.timedOut(seq);
      }
      stats.eagains = socket.stats.eagains;
      await pause(options.intervalMs, signal);
    }
  } finally {
    await socket.close();
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
