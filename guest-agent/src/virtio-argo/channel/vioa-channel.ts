// SPDX-License-Identifier: Apache-2.0
/**
 * `VioaChannel`: one virtio-argo link end — a unicast receive ring in this guest's memory
 * (partner = the peer, virtio-argo.md §4.3: "Rings are unicast ... so register_single_source is
 * checked on both sides") and a sender towards the peer's ring, every message of type "VIOA"
 * (§4.2). It is a small cousin of libargo's `DgramSocket`, which cannot be used here: a socket
 * sends only `ARGO_PROTO_DGRAM` from a staging copy and drops other types, while the data path
 * needs `message_type` VIOA and iovs that point straight at the driver's buffers (§4.6).
 *
 * Sending. A message is a list of parts: bytes (staged: copied into the channel's staging pages
 * by a WriteMemory in the same multicall) or a guest range (an iov as is). Small parts are
 * gathered into one WriteMemory; a part of `STAGE_IN_PLACE` bytes or more is its own
 * WriteMemory of the caller's buffer, not copied into a gathered one first (a 1 MiB read's
 * completion was copied once more that way), so a sender must leave its bytes alone until the
 * send settles. At most eight iovs
 * per message (Xen's `XEN_ARGO_MAXIOV`). Queued messages go out in order through libargo's
 * `ArgoSender` (argo-sender.ts), the same sender datagram sockets use: one multicall at a time,
 * `[writeMemory(staged bytes), sendv, sendv, ...]` with stopOnError, so a full ring (-EAGAIN)
 * stops the batch at that message and nothing behind it overtakes it; the sender parks until
 * the next VIRQ and retries, -EBUSY backs off. Any other negative ret fails that message (the
 * caller turns it into a device error). A message left queued that way keeps its staged bytes
 * where the batch wrote them, and the retry sends it from there instead of staging it again
 * (`#plan`).
 *
 * Prelude. A message's in-place iovs are read from the hypervisor's copy of this guest's memory,
 * while the driver wrote them into a local shadow (`ShadowGuestRam`): the dirty bytes must reach
 * the hypervisor before the `sendv` that reads them. Rather than a flush multicall and then a
 * send multicall (two round trips per kick), the channel asks its `prelude` for pending calls
 * while it builds each multicall and puts them first: `[writeMemory(dirty spans)...,
 * writeMemory(staged bytes), sendv...]`, one round trip, executed in order. The prelude is taken
 * in the same synchronous step as the multicall is issued, so a span taken by one channel is
 * written before any later multicall of this guest (another device's channel) can read it. A
 * prelude call that fails stops the multicall (stopOnError) before any sendv; the prelude puts
 * back what was not written (`settle`), and the messages of that multicall fail with EIO.
 *
 * Receiving is driven by the guest's `ArgoEndpoint`, which reads every ring — sockets' and
 * channels' — in one pass per VIRQ (the hub attaches each channel to it).
 * Messages of another type or from another domain are dropped and counted (the hypervisor
 * stamps the source domid, so a unicast ring only ever holds the partner's, but we check).
 */
import {
  ARGO_DOMID_ANY,
  ARGO_MAXIOV,
  Errno,
  PAGE_SIZE,
  VIRTIO_ARGO_MESSAGE_TYPE,
} from "@hmx/proto/abi";
import type { ArgoAddr, HypercallOp } from "../../hypercall/hypercall-client.js";
import {
  ArgoSender,
  channelStats,
  type ChannelStats,
  type SendBatch,
  type SenderHost,
  type SendQueueView,
} from "../../libargo/argo-sender.js";
import type { PreludeSource } from "../../libargo/batch-prelude.js";
import type { PageAllocator, PageRun } from "../../libargo/page-allocator.js";
import type { RingCorruption, RingMessage } from "../../libargo/ring-reader.js";
import type { RingSink, RxRing } from "../../libargo/rx-ring.js";
import { TransportErrno } from "../wire/transport-error.js";

/**
 * A piece of a message: bytes to stage (left unmodified until the send settles: a large part
 * is written from the caller's buffer), or a range of this guest's memory sent in place.
 */
export type MessagePart =
  { readonly bytes: Uint8Array } | { readonly gpa: number; readonly len: number };

/** A send that failed for good; `errno` is the positive Xen errno (ECONNREFUSED, EACCES, ...). */
export class VioaSendError extends Error {
  override readonly name = "VioaSendError";
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

export type VioaChannelStats = ChannelStats;

interface Pending {
  readonly parts: readonly MessagePart[];
  readonly staged: number;
  /**
   * Where in the staging pages a batch that stopped at -EAGAIN / -EBUSY left this message's
   * staged bytes (written, not yet sent); null when they are not there.
   */
  stagedAt: number | null;
}

/** What a channel needs from the hub that opened it. */
export interface ChannelHost {
  /** The guest endpoint's, for the channel's sender. */
  readonly sender: SenderHost;
  readonly allocator: PageAllocator;
  released(channel: VioaChannel): void;
}
/** Messages per multicall at most. */
const MAX_BATCH_MESSAGES = 64;
/**
 * Calls per multicall the channel aims below (prelude + staging write + sendvs): the Session
 * client refuses a stopOnError batch above the server's max_batch (1,024 by default), so a long
 * prelude leaves room for fewer messages, never fewer than one.
 */
const MAX_BATCH_CALLS = 256;
/** A staged part at least this long is written from its own buffer (module comment). */
const STAGE_IN_PLACE = 16 * 1024;
/** Parts per multicall written in place at most; later ones are gathered, bounding the calls. */
const MAX_IN_PLACE = 16;
/** A channel keeps at most this many received messages for a slow consumer (back-pressure). */
const RX_ROOM = 4096;

/** One end of a virtio-argo link (see the module comment). Create with `VioaHub.open`. */
export class VioaChannel implements RingSink {
  readonly peer: ArgoAddr;
  readonly stats: VioaChannelStats = channelStats();
  readonly #host: ChannelHost;
  readonly #ring: RxRing;
  readonly #onMessage: (data: Buffer) => void;
  readonly #staging: PageRun;
  readonly #prelude: PreludeSource | null;
  readonly #sender: ArgoSender<Pending>;
  #closing: Promise<void> | null = null;

  /** @internal Use `VioaHub.open`. */
  constructor(
    host: ChannelHost,
    ring: RxRing,
    peer: ArgoAddr,
    staging: PageRun,
    onMessage: (data: Buffer) => void,
    prelude: PreludeSource | null = null,
  ) {
    this.#host = host;
    this.#ring = ring;
    this.peer = peer;
    this.#staging = staging;
    this.#onMessage = onMessage;
    this.#prelude = prelude;
    const to = `vm${peer.domainId}:0x${peer.aport.toString(16)}`;
    this.#sender = new ArgoSender<Pending>(
      host.sender,
      {
        build: (queue) => this.#build(queue),
        refused: (_p, ret) => new VioaSendError(-ret, `sendv to ${to} failed with ${ret}`),
        status: (_p, code, message) =>
          new VioaSendError(Errno.EINVAL, `sendv: status ${code} ${message}`),
        closed: () => new VioaSendError(Errno.ENODEV, "channel closed"),
        broken: (_p, err) => new VioaSendError(TransportErrno.EIO, `send failed: ${String(err)}`),
      },
      this.stats,
    );
  }

  /** This end's receive port. */
  get aport(): number {
    return this.#ring.aport;
  }

  get ring(): RxRing {
    return this.#ring;
  }

  get closed(): boolean {
    return this.#closing !== null;
  }

  /** Largest bytes one message may stage. */
  get stagingBytes(): number {
    return this.#staging.bytes;
  }

  /** Queues one message; resolves once the hypervisor put it in the peer's ring. */
  send(parts: readonly MessagePart[]): Promise<void> {
    if (this.#closing !== null)
      return Promise.reject(new VioaSendError(Errno.ENODEV, "channel closed"));
    const staged = parts.reduce((n, p) => n + ("bytes" in p ? p.bytes.length : 0), 0);
    const iovs = parts.filter((p) => !("bytes" in p)).length + (staged > 0 ? 1 : 0);
    if (iovs > ARGO_MAXIOV || staged > this.#staging.bytes) {
      return Promise.reject(
        new VioaSendError(
          Errno.EINVAL,
          `message of ${iovs} iovs / ${staged} staged bytes is too large`,
        ),
      );
    }
    return this.#sender.send({ parts, staged, stagedAt: null }).then(() => undefined);
  }

  /** Messages waiting to be accepted. */
  get pendingSends(): number {
    return this.#sender.pending;
  }

  /**
   * Unregisters the ring and frees the pages; the batch in flight completes, queued sends
   * reject with ENODEV. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closing = (async () => {
      await this.#sender.close();
      try {
        await this.#ring.close();
      } finally {
        this.#host.allocator.free(this.#staging);
        this.#host.released(this);
      }
    })();
    return this.#closing;
  }

  // ---- RingSink ----

  /** @internal */
  room(): number {
    return this.#closing === null ? RX_ROOM : 0;
  }

  /** @internal */
  deliver(messages: readonly RingMessage[]): void {
    for (const m of messages) {
      if (m.messageType !== VIRTIO_ARGO_MESSAGE_TYPE || m.source.domainId !== this.peer.domainId) {
        this.stats.dropped++;
        continue;
      }
      this.stats.received++;
      this.stats.receivedBytes += m.data.length;
      this.#onMessage(m.data);
    }
  }

  /** @internal */
  corrupt(_c: RingCorruption): void {
    this.stats.corruptions++;
  }

  /** The next multicall: `[prelude..., writeMemory(staged bytes), sendv...]`. */
  #build(queue: SendQueueView<Pending>): SendBatch<Pending> {
    // Taken now, in the same synchronous step as the multicall is issued (module comment).
    const prelude = this.#prelude?.() ?? null;
    const pre = prelude?.ops.length ?? 0;
    // Each in-place part can split the gathered staging write in two: room for both (there
    // are at most as many such parts as the staging area holds).
    const writeCalls =
      1 + 2 * Math.min(MAX_IN_PLACE, Math.floor(this.#staging.bytes / STAGE_IN_PLACE));
    const maxMessages = Math.max(
      1,
      Math.min(MAX_BATCH_MESSAGES, MAX_BATCH_CALLS - pre - writeCalls),
    );
    const { take, base } = this.#plan(queue, maxMessages);
    const ops: HypercallOp[] = prelude === null ? [] : [...prelude.ops];
    const src: ArgoAddr = { aport: this.#ring.aport, domainId: ARGO_DOMID_ANY };
    // The new staged bytes, [base, base + staged) of the staging pages, as WriteMemory calls.
    const writes = new StagingWrites(this.#staging.gpa + base);
    /** Where each newly staged message's bytes go (valid once the staging writes succeeded). */
    const placed = new Map<Pending, number>();
    const sends: HypercallOp[] = [];
    for (const p of take) {
      const iovs: { gpa: number; len: number }[] = [];
      // A message still staged from an earlier batch is sent from there, not copied again.
      const kept = p.stagedAt;
      let off = kept ?? base + writes.length;
      if (kept === null && p.staged > 0) placed.set(p, off);
      for (const part of p.parts) {
        if ("bytes" in part) {
          if (kept === null) writes.add(part.bytes);
          iovs.push({ gpa: this.#staging.gpa + off, len: part.bytes.length });
          off += part.bytes.length;
        } else {
          iovs.push({ gpa: part.gpa, len: part.len });
        }
      }
      sends.push({
        op: "sendv",
        src,
        dst: this.peer,
        iovs: mergeAdjacent(iovs),
        messageType: VIRTIO_ARGO_MESSAGE_TYPE,
      });
    }
    const staging = writes.ops();
    ops.push(...staging, ...sends);
    return {
      ops,
      count: take.length,
      lost: (err) => {
        // The link failed; nothing says which calls ran. Fail the batch (the device resets).
        for (const p of take) p.stagedAt = null;
        const cause = prelude === null ? err : prelude.abandon(err);
        return () => new VioaSendError(Errno.EAGAIN, `send batch failed: ${String(cause)}`);
      },
      checkPrefix: (outcomes) => {
        if (prelude !== null) {
          const failure = prelude.settle(outcomes.slice(0, pre));
          // stopOnError skipped every sendv: nothing of these messages left (module comment).
          if (failure !== null)
            return () =>
              new VioaSendError(TransportErrno.EIO, `prelude failed: ${failure.message}`);
        }
        for (let i = 0; i < staging.length; i++) {
          const w = outcomes[pre + i];
          if (w?.op !== "writeMemory" || w.ret < 0)
            return () => new VioaSendError(Errno.EFAULT, "staging write failed");
        }
        // The new bytes are in the staging pages now: what stays queued keeps them there.
        for (const [p, off] of placed) p.stagedAt = off;
        return null;
      },
    };
  }

  /**
   * The messages of the next batch and where their new staged bytes go. Messages a batch left
   * queued at -EAGAIN (always the front of the queue: everything before them settled) still
   * have their bytes staged at `stagedAt`; nothing writes the staging pages until the next
   * batch (one batch at a time), so they are taken as they are. The bytes of the messages after
   * them are staged in one run `[base, base + staged)` that overlaps none of those: after them,
   * or else before them. A ring that is full for a while thus costs each message's staged bytes
   * one WriteMemory, not one per retry (a 1 MiB read's USED data was staged about 1.5 times).
   */
  #plan(
    queue: SendQueueView<Pending>,
    maxMessages: number,
  ): { take: Pending[]; base: number; staged: number } {
    const take: Pending[] = [];
    const room = this.#staging.bytes;
    let lo = room;
    let hi = 0;
    let k = 0;
    for (; k < queue.pending && take.length < maxMessages; k++) {
      const p = queue.at(k);
      if (p === undefined || p.stagedAt === null) break;
      take.push(p);
      lo = Math.min(lo, p.stagedAt);
      hi = Math.max(hi, p.stagedAt + p.staged);
    }
    const next = queue.at(k);
    let base = 0;
    let limit = room;
    if (take.length > 0 && next !== undefined) {
      if (hi + next.staged <= room) base = hi;
      else limit = lo;
    }
    let staged = 0;
    for (; k < queue.pending && take.length < maxMessages; k++) {
      const p = queue.at(k);
      // The first message always fits an empty staging area (send() checks its size).
      if (p?.stagedAt !== null || base + staged + p.staged > limit) break;
      take.push(p);
      staged += p.staged;
    }
    return { take, base, staged };
  }
}

/**
 * The WriteMemory calls that put consecutive parts into consecutive staging bytes from `gpa`:
 * small parts gathered into one buffer per run, a part of `STAGE_IN_PLACE` bytes or more
 * written from its own buffer (the first `MAX_IN_PLACE` such parts).
 */
class StagingWrites {
  readonly #gpa: number;
  readonly #ops: HypercallOp[] = [];
  #run: Uint8Array[] = [];
  #runAt = 0;
  #runLen = 0;
  #inPlace = 0;
  /** Bytes added so far. */
  length = 0;

  constructor(gpa: number) {
    this.#gpa = gpa;
  }

  add(bytes: Uint8Array): void {
    if (bytes.length >= STAGE_IN_PLACE && this.#inPlace < MAX_IN_PLACE) {
      this.#inPlace++;
      this.#close();
      this.#ops.push({ op: "writeMemory", gpa: this.#gpa + this.length, data: bytes });
    } else if (bytes.length > 0) {
      if (this.#runLen === 0) this.#runAt = this.length;
      this.#run.push(bytes);
      this.#runLen += bytes.length;
    }
    this.length += bytes.length;
  }

  ops(): HypercallOp[] {
    this.#close();
    return this.#ops;
  }

  #close(): void {
    if (this.#runLen === 0) return;
    const image = new Uint8Array(this.#runLen);
    let at = 0;
    for (const b of this.#run) {
      image.set(b, at);
      at += b.length;
    }
    this.#ops.push({ op: "writeMemory", gpa: this.#gpa + this.#runAt, data: image });
    this.#run = [];
    this.#runLen = 0;
  }
}

/** Merges iovs that are contiguous in guest memory (fewer iovs, same bytes). */
function mergeAdjacent(
  iovs: readonly { gpa: number; len: number }[],
): { gpa: number; len: number }[] {
  const out: { gpa: number; len: number }[] = [];
  for (const v of iovs) {
    const last = out.at(-1);
    if (last !== undefined && last.gpa + last.len === v.gpa) last.len += v.len;
    else out.push({ ...v });
  }
  return out;
}

/** Pages for a staging area of at least `bytes`. */
export function stagingPages(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / PAGE_SIZE));
}
