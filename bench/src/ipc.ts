// SPDX-License-Identifier: Apache-2.0
/**
 * The control protocol between the benchmark's orchestrator (`main.ts`) and its worker
 * processes, carried over the `child_process.fork` IPC channel with `serialization: "advanced"`
 * (so typed arrays travel as they are). Every command carries an `id`; the worker answers each
 * with exactly one `WorkerReply` of the same id. A worker may also send one unsolicited
 * `fatal` message before it exits. Keeping these types in one file is what lets the hmx and
 * the relay workers share one runtime (`worker-runtime.ts`).
 */

import type { BlkPhaseOptions, BlkTest } from "./virtio-blk-phases.js";

/** How a worker reaches its transport. */
export type TransportInit =
  | {
      readonly kind: "hmx";
      /** The hypervisor's guest-facing listener. */
      readonly address: string;
      readonly credential: string;
      readonly memoryBytes: number;
      /** The other guest's domid: the receiver's ring partner, the sender's destination. */
      readonly peerDomid: number;
      /** The receiver's port (the sender sends to it). */
      readonly aport: number;
      /** Receive ring length of the receiver. */
      readonly ringLen: number;
      /** Socket batching overrides (experiments only; absent = libargo's defaults). */
      readonly maxBatchMessages?: number;
      readonly maxBatchBytes?: number;
      readonly maxBatchesInFlight?: number;
      /** SessionClient `virqRingBytes` (absent = the client's default). */
      readonly virqRingBytes?: number;
    }
  | {
      readonly kind: "relay";
      readonly address: string;
      /**
       * Batched baseline: the sender packs up to this many payloads (and this many bytes) into
       * one gRPC message, as libargo packs one multicall. Absent = one payload per message.
       */
      readonly batch?: { readonly maxMessages: number; readonly maxBytes: number };
    };

export type Role = "sender" | "receiver";

export type WorkerCommand =
  | { readonly cmd: "init"; readonly role: Role; readonly transport: TransportInit }
  /** Receiver: start a fresh tally for a phase whose messages carry `tag`. */
  | {
      readonly cmd: "arm";
      readonly tag: number;
      readonly size: number;
      readonly capacity: number;
      readonly recordLatency: boolean;
    }
  /** Sender: send as fast as the transport allows, until `maxMessages` or `maxMs`. */
  | {
      readonly cmd: "saturate";
      readonly tag: number;
      readonly size: number;
      readonly maxMessages: number;
      readonly maxMs: number;
    }
  /** Sender: send `count` messages at `ratePerSec`. */
  | {
      readonly cmd: "paced";
      readonly tag: number;
      readonly size: number;
      readonly count: number;
      readonly ratePerSec: number;
    }
  /** Receiver: wait until `expected` messages of the armed phase arrived, then report. */
  | { readonly cmd: "collect"; readonly expected: number; readonly timeoutMs: number }
  | { readonly cmd: "close" };

/** What a sender reports after a phase. Times are `performance.timeOrigin + now()` in ms. */
export interface SendReport {
  readonly count: number;
  readonly startAt: number;
  /** When the last send was accepted by the transport (flushed). */
  readonly endAt: number;
  /** Transport counters (e.g. the socket's batches and EAGAINs), for the JSON. */
  readonly counters: Readonly<Record<string, number>>;
}

/** What a receiver reports after a phase. */
export interface ReceiveReport {
  readonly expected: number;
  /** Messages of this phase received (duplicates included). */
  readonly received: number;
  /** Distinct sequence numbers in [0, expected) received. */
  readonly distinct: number;
  readonly duplicates: number;
  /** Sequence numbers in [0, expected) never received. */
  readonly missing: number;
  /** Messages that arrived after a higher sequence number. */
  readonly outOfOrder: number;
  /** Messages whose sequence number was >= the phase's capacity or >= expected. */
  readonly outOfRange: number;
  /** Messages of another phase (other tag) or too short to carry the header. */
  readonly foreign: number;
  /** Messages of this phase with the wrong length. */
  readonly badSize: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly timedOut: boolean;
  /** One-way latencies in microseconds, in arrival order (latency phases only). */
  readonly latenciesUs: Float64Array | null;
  readonly counters: Readonly<Record<string, number>>;
}

export interface InitReport {
  readonly pid: number;
  /** hmx: the guest's domid as the hypervisor reported it. */
  readonly domid?: number;
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Unsolicited: the worker failed outside any command and is about to exit. */
export interface WorkerFatal {
  readonly fatal: string;
}

/** One whole sender/receiver pair of the scale phase: both guests' credentials and domids. */
export interface PairInit {
  readonly index: number;
  readonly senderCredential: string;
  readonly senderDomid: number;
  readonly receiverCredential: string;
  readonly receiverDomid: number;
}

/** The many-pairs phase (`pairs-bench.ts`): a `pairs-worker.ts` hosts several whole pairs. */
export type PairsCommand =
  | {
      readonly cmd: "pairs-init";
      readonly address: string;
      readonly memoryBytes: number;
      readonly aport: number;
      readonly pairs: readonly PairInit[];
    }
  /**
   * Every pair sends as fast as it can from `startAt` (ms, `now()`) for `durationMs`, then
   * waits (≤ `timeoutMs`) until its receiver has every message it sent.
   */
  | {
      readonly cmd: "pairs-run";
      readonly tag: number;
      readonly size: number;
      readonly startAt: number;
      readonly durationMs: number;
      readonly timeoutMs: number;
    }
  | { readonly cmd: "close" };

/** One pair's share of a `pairs-run`. */
export interface PairReport {
  readonly index: number;
  readonly sent: number;
  /** Messages of this run the receiver got (all of them, after the wait). */
  readonly received: number;
  /** Of those, the ones that arrived inside the window: this pair's throughput. */
  readonly inWindow: number;
  /** Messages whose sequence number was not the one after the previous (loss, dup, reorder). */
  readonly outOfSequence: number;
}

/**
 * A virtio party (`virtio-party.ts`) of the virtio bench's separate-process rows: a back-end
 * guest hosting its table's devices, or a front-end guest whose blk driver runs the phases.
 * Either reports its Session client's work so far (`WorkTally`).
 */
export type VirtioPartyCommand =
  | {
      readonly cmd: "virtio-backend";
      readonly address: string;
      readonly credential: string;
      /** Where the back end keeps the blk image files. */
      readonly imageDir: string;
    }
  | { readonly cmd: "virtio-frontend"; readonly address: string; readonly credential: string }
  | { readonly cmd: "virtio-phase"; readonly test: BlkTest; readonly options: BlkPhaseOptions }
  | { readonly cmd: "virtio-work" }
  | { readonly cmd: "close" };
