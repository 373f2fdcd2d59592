// SPDX-License-Identifier: Apache-2.0
/**
 * The workloads' progress records in guest memory (gfns 8..15, agent-state.ts), so that a guest
 * agent killed at any instant comes back with its checks where they were (docs/state-guests.md):
 *
 * - **Receive progress** (gfns 8..13): what a stream checker (sink.ts `SequenceChecker`) has
 *   counted, and the rx_ptr of its ring that this count goes with. It is written in front of
 *   the rx store that publishes the consumption, in one multicall (rx-ring.ts
 *   `RingSink.progressOps`), so a message is either still in the ring and not counted, or
 *   consumed and counted.
 * - **Send progress** (gfns 14..15): a sender's stream tag (its epoch) and a lower bound of the
 *   messages the hypervisor accepted in it. A sender cannot know whether its last sendv was
 *   accepted before it died (nor could it on Xen: a sendv writes nothing into the sender's
 *   memory), so a restarted sender starts a new epoch (tag + 1, seq 0) rather than guess; the
 *   old epoch's lower bound is what a test holds the sink's count against.
 * - **Ping progress** (gfns 8..13, in place of a receive record: a guest runs one workload):
 *   a pinger's tag, its next sequence number and whether that ping may be out, which recent
 *   pings were answered, its counters, and the rx_ptr of its ring they go with. Written in
 *   front of each send (the ping that may go out) and in front of every rx store (the replies
 *   counted), so a restarted pinger continues its run: no counter restarts at 0, a ping that
 *   may have gone out is sent again (its second reply counts as a re-delivery), none is lost.
 *
 * Binary, fixed-size slots, little-endian, because the receive record rides with every rx store:
 * header (magic, version, body length, FNV-1a of the body; 16 bytes), then the body. A missing,
 * foreign or damaged record reads as none. Counters are f64: exact up to 2^53.
 */
import { PAGE_SIZE } from "@hmx/proto/abi";
import type { HypercallClient, HypercallOp } from "../hypercall/hypercall-client.js";
import { WORKLOAD_STATE_GPA } from "../libargo/agent-state.js";
import { SEALED_HEADER_BYTES, sealRecord, unsealRecord } from "../libargo/sealed-record.js";

const HEADER = SEALED_HEADER_BYTES;
const RECEIVE_MAGIC = 0x43584d48; // "HMXC"
const SEND_MAGIC = 0x53584d48; // "HMXS"
const PING_MAGIC = 0x50584d48; // "HMXP"
const VERSION = 1;

/** Where the receive progress record lives, and its room (gfns 8..13). */
export const RECEIVE_PROGRESS_GPA = WORKLOAD_STATE_GPA;
const RECEIVE_PROGRESS_MAX_BYTES = 6 * PAGE_SIZE;
/** Where the send progress record lives (gfns 14..15). */
export const SEND_PROGRESS_GPA = WORKLOAD_STATE_GPA + RECEIVE_PROGRESS_MAX_BYTES;

/** The counters a checker keeps, in their slot order. */
export const CHECKER_COUNTERS = [
  "received",
  "bytes",
  "gaps",
  "lost",
  "duplicates",
  "reordered",
  "malformed",
] as const;
export type CheckerCounters = Record<(typeof CHECKER_COUNTERS)[number], number>;

/** One stream's position: the next sequence number expected from (domid, aport, tag). */
export interface StreamPosition {
  readonly domid: number;
  readonly aport: number;
  readonly tag: number;
  readonly next: number;
}

/** What a stream checker has counted, and the ring and rx_ptr it goes with. */
export interface ReceiveProgress {
  readonly aport: number;
  readonly partner: number;
  readonly rxPtr: number;
  readonly counters: CheckerCounters;
  readonly streams: readonly StreamPosition[];
}

const RECEIVE_FIXED = 16 + 8 * CHECKER_COUNTERS.length;
const STREAM_SLOT = 24;
/** Streams a record holds (the most recently started ones, when a checker knows more). */
export const MAX_RECORDED_STREAMS = Math.floor(
  (RECEIVE_PROGRESS_MAX_BYTES - HEADER - RECEIVE_FIXED) / STREAM_SLOT,
);

/** Writes `values`' `names` as f64s from `at`, in order. */
function writeCounters<K extends string>(
  body: Buffer,
  at: number,
  names: readonly K[],
  values: Record<K, number>,
): void {
  names.forEach((k, i) => body.writeDoubleLE(values[k], at + 8 * i));
}

/** Reads `names` as f64s from `at`; undefined unless each is a safe integer. */
function readCounters<K extends string>(
  body: Buffer,
  at: number,
  names: readonly K[],
): Record<K, number> | undefined {
  const values = Object.fromEntries(names.map((k, i) => [k, body.readDoubleLE(at + 8 * i)]));
  return names.every((k) => Number.isSafeInteger(values[k]))
    ? (values as Record<K, number>)
    : undefined;
}

const seal = (magic: number, body: Buffer): Buffer => sealRecord(magic, VERSION, body);
const unseal = (magic: number, bytes: Buffer): Buffer | undefined =>
  unsealRecord(magic, VERSION, bytes);

/** Encodes a receive progress record; only the last `MAX_RECORDED_STREAMS` streams are kept. */
export function encodeReceiveProgress(p: ReceiveProgress): Buffer {
  const streams = p.streams.slice(-MAX_RECORDED_STREAMS);
  const body = Buffer.alloc(RECEIVE_FIXED + STREAM_SLOT * streams.length);
  body.writeUInt32LE(p.aport >>> 0, 0);
  body.writeUInt32LE(p.partner >>> 0, 4);
  body.writeUInt32LE(p.rxPtr >>> 0, 8);
  body.writeUInt32LE(streams.length, 12);
  writeCounters(body, 16, CHECKER_COUNTERS, p.counters);
  streams.forEach((s, i) => {
    const at = RECEIVE_FIXED + STREAM_SLOT * i;
    body.writeUInt32LE(s.domid >>> 0, at);
    body.writeUInt32LE(s.aport >>> 0, at + 4);
    body.writeUInt32LE(s.tag >>> 0, at + 8);
    body.writeDoubleLE(s.next, at + 16);
  });
  return seal(RECEIVE_MAGIC, body);
}

const isCount = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/** Decodes a receive progress record; undefined when there is none or it does not check out. */
export function decodeReceiveProgress(bytes: Buffer): ReceiveProgress | undefined {
  const body = unseal(RECEIVE_MAGIC, bytes);
  if (body === undefined || body.length < RECEIVE_FIXED) return undefined;
  const n = body.readUInt32LE(12);
  if (body.length !== RECEIVE_FIXED + STREAM_SLOT * n) return undefined;
  // `lost` may dip below zero only transiently in a checker; anything else is a foreign record.
  const counters = readCounters(body, 16, CHECKER_COUNTERS);
  if (counters === undefined) return undefined;
  const streams = Array.from({ length: n }, (_, i) => {
    const at = RECEIVE_FIXED + STREAM_SLOT * i;
    return {
      domid: body.readUInt32LE(at),
      aport: body.readUInt32LE(at + 4),
      tag: body.readUInt32LE(at + 8),
      next: body.readDoubleLE(at + 16),
    };
  });
  if (!streams.every((s) => isCount(s.next))) return undefined;
  return {
    aport: body.readUInt32LE(0),
    partner: body.readUInt32LE(4),
    rxPtr: body.readUInt32LE(8),
    counters,
    streams,
  };
}

/** The call that stores `p`, for the multicall of the rx store it goes with. */
export function receiveProgressOp(p: ReceiveProgress): HypercallOp {
  return { op: "writeMemory", gpa: RECEIVE_PROGRESS_GPA, data: encodeReceiveProgress(p) };
}

/** Reads the receive progress a previous run left (undefined: none, or unreadable). */
export async function readReceiveProgress(
  client: HypercallClient,
): Promise<ReceiveProgress | undefined> {
  const { ret, data } = await client.readMemory(RECEIVE_PROGRESS_GPA, RECEIVE_PROGRESS_MAX_BYTES);
  return ret === 0 ? decodeReceiveProgress(data) : undefined;
}

/** A sender's stream epoch and the messages of it the hypervisor accepted, at least. */
export interface SendProgress {
  readonly tag: number;
  readonly peer: number;
  readonly port: number;
  readonly acceptedAtLeast: number;
}

const SEND_BODY = 24;

export function encodeSendProgress(p: SendProgress): Buffer {
  const body = Buffer.alloc(SEND_BODY);
  body.writeUInt32LE(p.tag >>> 0, 0);
  body.writeUInt32LE(p.peer >>> 0, 4);
  body.writeUInt32LE(p.port >>> 0, 8);
  body.writeDoubleLE(p.acceptedAtLeast, 16);
  return seal(SEND_MAGIC, body);
}

export function decodeSendProgress(bytes: Buffer): SendProgress | undefined {
  const body = unseal(SEND_MAGIC, bytes);
  if (body?.length !== SEND_BODY) return undefined;
  const acceptedAtLeast = body.readDoubleLE(16);
  if (!isCount(acceptedAtLeast)) return undefined;
  return {
    tag: body.readUInt32LE(0),
    peer: body.readUInt32LE(4),
    port: body.readUInt32LE(8),
    acceptedAtLeast,
  };
}

/** Reads the send progress a previous run left (undefined: none, or unreadable). */
export async function readSendProgress(client: HypercallClient): Promise<SendProgress | undefined> {
  const { ret, data } = await client.readMemory(SEND_PROGRESS_GPA, HEADER + SEND_BODY);
  return ret === 0 ? decodeSendProgress(data) : undefined;
}

/** Stores `p`; resolves with WriteMemory's ret. */
export function writeSendProgress(client: HypercallClient, p: SendProgress): Promise<number> {
  return client.writeMemory(SEND_PROGRESS_GPA, encodeSendProgress(p));
}

/** A pinger's counters, in their slot order. */
export const PING_COUNTERS = [
  "next",
  "sent",
  "received",
  "lost",
  "late",
  "redelivered",
  "resent",
  "errors",
  "bytes",
] as const;
export type PingCounters = Record<(typeof PING_COUNTERS)[number], number>;

/** Whether ping `next` may be out: not sent, perhaps accepted (died in the send), accepted. */
export const PING_IDLE = 0;
export const PING_SENDING = 1;
export const PING_ACCEPTED = 2;

/** A pinger's progress (module comment, "Ping progress"). */
export interface PingProgress {
  readonly tag: number;
  readonly peer: number;
  readonly port: number;
  /** Its ring's aport, and the rx_ptr of that ring the counters go with. */
  readonly aport: number;
  readonly rxPtr: number;
  /** `PING_IDLE`, `PING_SENDING` or `PING_ACCEPTED`: the state of ping `counters.next`. */
  readonly outstanding: number;
  /** Bit i: ping `next - 1 - i` was answered (tells a re-delivery from a late reply). */
  readonly answered: number;
  readonly counters: PingCounters;
}

const PING_FIXED = 32;
const PING_BODY = PING_FIXED + 8 * PING_COUNTERS.length;

export function encodePingProgress(p: PingProgress): Buffer {
  const body = Buffer.alloc(PING_BODY);
  [p.tag, p.peer, p.port, p.aport, p.rxPtr, p.outstanding, p.answered].forEach((v, i) =>
    body.writeUInt32LE(v >>> 0, 4 * i),
  );
  writeCounters(body, PING_FIXED, PING_COUNTERS, p.counters);
  return seal(PING_MAGIC, body);
}

/** Decodes a ping progress record; undefined when there is none or it does not check out. */
export function decodePingProgress(bytes: Buffer): PingProgress | undefined {
  const body = unseal(PING_MAGIC, bytes);
  if (body?.length !== PING_BODY) return undefined;
  const counters = readCounters(body, PING_FIXED, PING_COUNTERS);
  const outstanding = body.readUInt32LE(20);
  if (counters === undefined || outstanding > PING_ACCEPTED) return undefined;
  if (!PING_COUNTERS.every((k) => counters[k] >= 0)) return undefined;
  return {
    tag: body.readUInt32LE(0),
    peer: body.readUInt32LE(4),
    port: body.readUInt32LE(8),
    aport: body.readUInt32LE(12),
    rxPtr: body.readUInt32LE(16),
    outstanding,
    answered: body.readUInt32LE(24),
    counters,
  };
}

/** The call that stores `p` (in front of a send, or of the rx store it goes with). */
export function pingProgressOp(p: PingProgress): HypercallOp {
  return { op: "writeMemory", gpa: RECEIVE_PROGRESS_GPA, data: encodePingProgress(p) };
}

/** Reads the ping progress a previous run left (undefined: none, or unreadable). */
export async function readPingProgress(client: HypercallClient): Promise<PingProgress | undefined> {
  const { ret, data } = await client.readMemory(RECEIVE_PROGRESS_GPA, HEADER + PING_BODY);
  return ret === 0 ? decodePingProgress(data) : undefined;
}
