// SPDX-License-Identifier: Apache-2.0
/**
 * The fleet workload, what every guest of a container fleet runs: it binds one wildcard ring
 * (its sink), finds its peers through the hypervisor's ListPeers, and sends each peer a steady
 * numbered stream, while checking every stream it receives for loss, duplicates and reordering
 * (the sink's SequenceChecker). A peer the MAC policy forbids is reported once — the hypervisor
 * audits the denial too — and left alone; a peer that disappears is dropped and picked up again
 * if it comes back. So a fleet does visible work out of the box, under policy.
 */
import { randomInt } from "node:crypto";
import { ARGO_DOMID_ANY, ArgoRingFlag, Errno } from "@hmx/proto/abi";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import type { DgramSocket } from "../libargo/dgram-socket.js";
import { ArgoSocketError } from "../libargo/errors.js";
import {
  isAborted,
  numberedPayload,
  sleepUnlessAborted,
  type WorkloadBaseOptions,
} from "./common.js";
import { bindChecked, newSinkStats, SequenceChecker, type SinkStats } from "./sink.js";

/** A domain another guest may see (ListPeers). */
export interface FleetPeer {
  readonly domid: number;
  readonly name: string;
  readonly label: string;
}

/** Where the fleet workload reports a refused peer (a pino logger fits). */
export interface FleetLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface FleetOptions extends WorkloadBaseOptions {
  /** The port every fleet guest binds and sends to. */
  readonly port: number;
  /** Payload bytes per message (>= 12). */
  readonly size: number;
  /** Messages per second to each peer. */
  readonly rate: number;
  /** Lists the other domains (the hypervisor's ListPeers). */
  readonly listPeers: () => Promise<readonly FleetPeer[]>;
  /** How often to look for new peers. */
  readonly refreshMs?: number;
  readonly log?: FleetLogger;
}

export interface FleetStats extends SinkStats {
  /** Peers currently being sent to. */
  peers: number;
  /**
   * Peers we may send to whose ring is not there (yet): a guest still starting, or a domain
   * that runs no fleet sink at all, such as a VirtIO back end.
   */
  waiting: number;
  /** Peers the policy refused (send or notify answered -EACCES / -EPERM). */
  denied: number;
  sent: number;
  errors: number;
}

export function newFleetStats(): FleetStats {
  return { ...newSinkStats(), peers: 0, waiting: 0, denied: 0, sent: 0, errors: 0 };
}

const DENIAL_CODES = new Set(["EACCES", "EPERM"]);

type PeerOutcome = "denied" | "gone" | "stopped";

/** Sends one peer a numbered stream until stopped, denied, or the peer goes away. */
async function streamToPeer(
  socket: DgramSocket,
  endpoint: ArgoEndpoint,
  peer: FleetPeer,
  options: FleetOptions,
  stats: FleetStats,
  signal: AbortSignal,
): Promise<PeerOutcome> {
  const dst = { domainId: peer.domid, aport: options.port };
  // Wait for the peer's ring; notify is MAC-checked, so a forbidden peer shows up here already.
  stats.waiting++;
  try {
    for (;;) {
      if (signal.aborted) return "stopped";
      const { ret, entries } = await endpoint.client.notify([{ ring: dst, spaceRequired: 0 }]);
      if (ret === -Errno.EACCES || ret === -Errno.EPERM) return "denied";
      if (ret === 0 && ((entries[0]?.flags ?? 0) & ArgoRingFlag.EXISTS) !== 0) break;
      // One shared listener on `signal` for all peers' pauses (sleepUnlessAborted).
      if (!(await sleepUnlessAborted(500, signal))) return "stopped";
    }
  } finally {
    stats.waiting--;
  }
  stats.peers++;
  try {
    return await sendStream(socket, dst, options, stats, signal);
  } finally {
    stats.peers--;
  }
}

/** The numbered stream itself, paced at `options.rate`. */
async function sendStream(
  socket: DgramSocket,
  dst: { domainId: number; aport: number },
  options: FleetOptions,
  stats: FleetStats,
  signal: AbortSignal,
): Promise<PeerOutcome> {
  const tag = randomInt(0, 0x100000000);
  const started = performance.now();
  for (let seq = 0; !isAborted(signal); seq++) {
    const dueIn = started + (seq * 1000) / options.rate - performance.now();
    if (dueIn >= 1 && !(await sleepUnlessAborted(dueIn, signal))) return "stopped";
    try {
      await socket.sendTo(dst, numberedPayload(options.size, seq, tag));
      stats.sent++;
    } catch (err) {
      if (err instanceof ArgoSocketError && DENIAL_CODES.has(err.code)) return "denied";
      if (err instanceof ArgoSocketError && (err.code === "ECONNREFUSED" || err.code === "ESRCH"))
        return "gone";
      if (err instanceof ArgoSocketError && err.code === "ESHUTDOWN") return "stopped";
      stats.errors++;
      return "gone";
    }
  }
  return "stopped";
}

export async function runFleet(
  endpoint: ArgoEndpoint,
  options: FleetOptions,
  stats: FleetStats,
): Promise<void> {
  const { signal } = options;
  const checker = new SequenceChecker(stats);
  // Counted as the ring drains, the progress kept in guest memory with every rx store: a
  // restarted agent continues the streams it was checking, however it stopped (sink.ts).
  const socket = await bindChecked(endpoint, checker, {
    aport: options.port,
    partner: ARGO_DOMID_ANY,
  });
  const active = new Map<number, Promise<void>>();
  const denied = new Set<number>();
  const refreshMs = options.refreshMs ?? 2000;
  options.onReady?.({ aport: socket.aport, partner: socket.partner });

  try {
    while (!signal.aborted) {
      let peers: readonly FleetPeer[] = [];
      try {
        peers = await options.listPeers();
      } catch (err) {
        stats.errors++;
        options.log?.warn({ err }, "listing peers failed");
      }
      for (const peer of peers) {
        if (active.has(peer.domid) || denied.has(peer.domid)) continue;
        const task = streamToPeer(socket, endpoint, peer, options, stats, signal).then(
          (outcome) => {
            active.delete(peer.domid);
            if (outcome === "denied") {
              denied.add(peer.domid);
              stats.denied = denied.size;
              options.log?.warn(
                { peer: peer.name, peerDomid: peer.domid, peerLabel: peer.label },
                "sending to peer denied by policy",
              );
            }
          },
        );
        active.set(peer.domid, task);
      }
      if (!(await sleepUnlessAborted(refreshMs, signal))) break;
    }
  } finally {
    await socket.close();
    await Promise.all(active.values());
  }
}
