// SPDX-License-Identifier: Apache-2.0
/**
 * The front end's data plane (virtio-argo.md §4.6 "ring-sync"), for `ArgoTransport`: the
 * device side of the driver's split rings inside the front-end guest, and the AVAIL / USED
 * messages that replace the back end's access to them.
 *
 * A kick pops the new available chains, sends them as AVAIL records whose data iovs point
 * straight at the driver's buffers, fragmenting large chains to fit the back end's ring. sendv
 * copies from the hypervisor's copy, so the driver's dirty shadow bytes must get there first:
 * the channel puts them (`GuestRam.takeWrites`) at the front of the very multicall that
 * carries the sendvs, one round trip per kick. Pre-posted buffers (net/console receive) are
 * sent at DRIVER_OK. USED records coming back are checked (head outstanding, fragments in
 * order, `written_len` within the writable bytes, inline bytes exactly `written_len`; §4.9 and
 * Linux's BAD_RING cases), their bytes are written into the chain's writable buffers (in the
 * shadow only, shadow-guest-ram.ts: no flush carries them back unless a device is to read
 * them), then the
 * used ring, then — if the driver's suppression state asks for it — the used-buffer interrupt.
 * A violation breaks the device through the transport. Requests must complete within the
 * request timeout (request-watchdog.ts).
 */
import { maxMessageSize } from "@hmx/proto/abi";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  hasFeature,
  FloodGuard,
  type GuestRam,
  type ChainSegment,
  type SplitRingAddresses,
  SplitQueue,
  ViolationKind,
  type ViolationLog,
} from "@hmx/virtio";
import type { MessagePart } from "../channel/vioa-channel.js";
import { packAvail, type LocalChain } from "../wire/fragmenter.js";
import { encodeHeader, VioaMsg } from "../wire/messages.js";
import {
  decodeUsedEvent,
  encodeAvailRecords,
  type UsedRecord,
  type WithData,
} from "../wire/records.js";
import { TransportErrno } from "../wire/transport-error.js";
import type { ArgoDeviceBinding, ArgoTransportStats } from "./argo-transport.js";
import { RequestWatchdog } from "./request-watchdog.js";
import { exposeToDevice, writeFromDevice } from "./shadow-guest-ram.js";

interface Inflight {
  readonly segments: readonly ChainSegment[];
  readonly writable: number;
  written: number;
  nextFrag: number;
  /** When a chain with device-readable data (a request) was sent; 0 for receive buffers. */
  readonly sentAt: number;
}

interface FeQueue {
  readonly index: number;
  readonly size: number;
  readonly addresses: SplitRingAddresses;
  split: SplitQueue | undefined;
  readonly inflight: Map<number, Inflight>;
  /** Reset (RESET_VQUEUE) and not set up again: its late USED records are dropped. */
  readonly reset?: true;
}

/** Pump turns a queue reset waits for the AVAIL messages queued before it (each turn sends all). */
const RESET_DRAIN_TURNS = 64;

/** What the data plane needs from its transport. */
export interface RingSyncHost {
  readonly ram: GuestRam;
  readonly violations: ViolationLog;
  readonly device: ArgoDeviceBinding;
  readonly stats: ArgoTransportStats;
  readonly requestTimeoutMs: number;
  /** The negotiated features. */
  features(): bigint;
  /** The device is FAILED (the control plane gave up on the back end). */
  failed(): boolean;
  /** The device is FAILED or broken (a back-end violation): no data moves. */
  stopped(): boolean;
  /** Sends one message to the back end, in order. */
  send(parts: readonly MessagePart[]): Promise<void>;
  fail(errno: number, reason: string, cause?: unknown): void;
  breakDevice(kind: ViolationKind, details: Record<string, unknown>): void;
  raiseQueue(queue: number): void;
  errnoOf(err: unknown): number;
}

/** One device's ring-sync data plane (see the module comment). */
export class RingSync {
  readonly #host: RingSyncHost;
  readonly #queues = new Map<number, FeQueue>();
  readonly #floodGuard = new FloodGuard(100_000);
  readonly #watchdog: RequestWatchdog;
  #outbox: MessagePart[][] = [];
  #outPump: Promise<void> | null = null;

  constructor(host: RingSyncHost) {
    this.#host = host;
    this.#watchdog = new RequestWatchdog(
      host.requestTimeoutMs,
      () => this.#queues.values(),
      (queue) => {
        host.fail(
          TransportErrno.ETIMEDOUT,
          `a request on queue ${queue} got no answer within ${host.requestTimeoutMs} ms`,
        );
      },
    );
  }

  /** SET_VQUEUE was accepted; on a live device (re-enabling a reset queue) it is live at once. */
  setup(index: number, size: number, addresses: SplitRingAddresses, live: boolean): void {
    const q: FeQueue = {
      index,
      size,
      addresses: { ...addresses },
      split: undefined,
      inflight: new Map(),
    };
    this.#queues.set(index, q);
    if (live && !this.#buildSplit(q)) return;
    if (q.split !== undefined) this.collect(index);
  }

  /**
   * Stops queue `index` before its RESET_VQUEUE: no more kicks collected, its in-flight records
   * dropped (late USED records for it are counted, never applied), and the AVAIL messages
   * collected already sent first, so the reset cannot overtake them on the ring.
   */
  async stop(index: number): Promise<void> {
    const old = this.#queues.get(index);
    this.#queues.set(index, {
      index,
      size: old?.size ?? 0,
      addresses: old?.addresses ?? { descAddr: 0, availAddr: 0, usedAddr: 0 },
      split: undefined,
      inflight: new Map(),
      reset: true,
    });
    for (let turn = 0; turn < RESET_DRAIN_TURNS && this.#outPump !== null; turn++)
      await this.#outPump;
  }

  /** DRIVER_OK accepted: build the shim's device-side queues and send what is posted already. */
  goLive(): void {
    for (const q of this.#queues.values()) {
      if (q.reset === true) continue;
      if (!this.#buildSplit(q)) return;
      this.collect(q.index);
    }
    this.#watchdog.start();
  }

  /** Forgets every queue and what was waiting to be sent (a reset, a failure). */
  drop(): void {
    this.#queues.clear();
    this.#outbox = [];
    this.#watchdog.stop();
  }

  /** Stops the request watchdog (the device broke; the driver resets it). */
  stopWatchdog(): void {
    this.#watchdog.stop();
  }

  /** Builds the shim's device side of queue `q`; false (device broken) if the setup is bad. */
  #buildSplit(q: FeQueue): boolean {
    const h = this.#host;
    try {
      q.split = SplitQueue.create(
        h.ram,
        {
          ...q.addresses,
          index: q.index,
          size: q.size,
          maxSize: q.size,
          eventIdx: hasFeature(h.features(), VIRTIO_F_EVENT_IDX),
          indirect: hasFeature(h.features(), VIRTIO_F_INDIRECT_DESC),
        },
        {
          violations: h.violations,
          interrupt: (i) => {
            h.raiseQueue(i);
          },
          onBroken: (e) => {
            h.breakDevice(ViolationKind.invalidAvailIdx, { reason: e.message });
          },
        },
      );
    } catch (err) {
      h.breakDevice(ViolationKind.queueSetupInvalid, { queue: q.index, reason: String(err) });
      return false;
    }
    return true;
  }

  /** Pops the queue's new chains and sends them as AVAIL records. */
  collect(index: number): void {
    const h = this.#host;
    const q = this.#queues.get(index);
    const split = q?.split;
    if (q === undefined || split === undefined || h.stopped()) return;
    const chains: LocalChain[] = [];
    const now = Date.now();
    // Bounded by the queue size: a valid avail ring never has more than `size` new entries.
    for (let i = 0; i < q.size; i++) {
      const chain = split.pop();
      if (chain === undefined) break;
      if (q.inflight.has(chain.head)) {
        // Our own driver exposed a head twice; refuse it rather than confuse the back end.
        h.violations.report(ViolationKind.descIndexOutOfBounds, {
          device: h.device.name,
          queue: index,
          head: chain.head,
          reason: "head already in flight",
        });
        continue;
      }
      q.inflight.set(chain.head, {
        segments: chain.segments,
        writable: chain.writableBytes,
        written: 0,
        nextFrag: 0,
        sentAt: chain.readableBytes > 0 ? now : 0,
      });
      h.stats.readBytesSent += chain.readableBytes;
      // The sendv reads these from the hypervisor's copy: bytes a device wrote there earlier
      // (kept only in the shadow) must go out with the prelude.
      for (const s of chain.segments) if (!s.writable) exposeToDevice(h.ram, s.addr, s.len);
      chains.push({ head: chain.head, segments: chain.segments });
    }
    if (chains.length === 0) return;
    h.stats.availChains += chains.length;
    let messages;
    try {
      messages = packAvail(chains, maxMessageSize(h.device.ringLen));
    } catch (err) {
      h.fail(TransportErrno.EMSGSIZE, `a chain does not fit the back end's ring: ${String(err)}`);
      return;
    }
    for (const m of messages) {
      const records = encodeAvailRecords(index, m.records);
      const payloadLen = records.length + m.pieces.reduce((n, p) => n + p.len, 0);
      const head = encodeHeader(
        { response: false, msgId: VioaMsg.EVENT_AVAIL, devId: h.device.devIndex, token: 0 },
        payloadLen,
      );
      const first = new Uint8Array(head.length + records.length);
      first.set(head, 0);
      first.set(records, head.length);
      this.#outbox.push([{ bytes: first }, ...m.pieces]);
    }
    h.stats.availMessages += messages.length;
    this.#pumpOut();
  }

  /**
   * Sends the outbox, serialised so messages leave in the order the chains were popped. No
   * flush here: the channel writes the driver's dirty bytes in the same multicall, ahead of the
   * sendvs that read them (its prelude).
   */
  #pumpOut(): void {
    if (this.#outPump !== null) return;
    const h = this.#host;
    this.#outPump = (async () => {
      // Bounded: each turn sends everything queued so far; new kicks add to the next turn.
      while (this.#outbox.length > 0 && !h.failed()) {
        const batch = this.#outbox;
        this.#outbox = [];
        try {
          await Promise.all(batch.map((parts) => h.send(parts)));
        } catch (err) {
          h.fail(h.errnoOf(err), "sending available chains failed", err);
        }
      }
    })().finally(() => {
      this.#outPump = null;
      if (this.#outbox.length > 0 && !h.failed()) this.#pumpOut();
    });
  }

  /** An EVENT_USED message from the back end. */
  onUsed(payload: Uint8Array): void {
    const h = this.#host;
    h.stats.usedMessages++;
    if (this.#floodGuard.hit())
      h.violations.report(ViolationKind.interruptFlood, { device: h.device.name });
    const ev = decodeUsedEvent(payload, { maxRecords: 1024, maxSegments: 0 });
    const q = this.#queues.get(ev.queue);
    if (q?.reset === true) {
      // Completions of buffers the driver reclaimed with the queue reset: never applied.
      h.stats.lateUsedAfterQueueReset += ev.records.length;
      return;
    }
    // Completions racing a reset or a failure are dropped silently: the driver reclaimed them.
    if (q?.split === undefined || h.stopped()) return;
    let completed = false;
    for (const rec of ev.records) {
      if (!this.#applyUsed(q, rec)) return;
      if (rec.last) completed = true;
    }
    if (completed) q.split.signalUsed();
  }

  /** One USED record; false (device broken) on a violation. */
  #applyUsed(q: FeQueue, rec: WithData<UsedRecord>): boolean {
    const h = this.#host;
    const split = q.split;
    if (split === undefined) return false;
    const f = q.inflight.get(rec.head);
    const at = { device: h.device.name, queue: q.index, head: rec.head };
    if (f === undefined) {
      h.breakDevice(
        rec.head >= q.size ? ViolationKind.usedIdOutOfRange : ViolationKind.usedIdNotOutstanding,
        at,
      );
      return false;
    }
    if (rec.frag !== f.nextFrag) {
      h.breakDevice(ViolationKind.malformedRequest, {
        ...at,
        reason: `fragment ${rec.frag}, expected ${f.nextFrag}`,
      });
      return false;
    }
    if (rec.writtenLen > f.writable || f.written + rec.data.length > rec.writtenLen) {
      h.breakDevice(ViolationKind.usedLenTooLarge, {
        ...at,
        len: rec.writtenLen,
        writable: f.writable,
      });
      return false;
    }
    if (rec.last && f.written + rec.data.length !== rec.writtenLen) {
      h.breakDevice(ViolationKind.malformedRequest, {
        ...at,
        reason: `${f.written + rec.data.length} inline bytes for written_len ${rec.writtenLen}`,
      });
      return false;
    }
    // Copy the device-written bytes into the chain's writable buffers, in order (§4.6 step 6).
    let skip = f.written;
    let src = 0;
    for (const s of f.segments) {
      if (!s.writable || src >= rec.data.length) continue;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, rec.data.length - src);
      // Kept in the shadow only: nothing reads them through the hypervisor unless the driver
      // hands them to a device again (exposeToDevice above).
      writeFromDevice(h.ram, s.addr + skip, rec.data.subarray(src, src + n));
      src += n;
      skip = 0;
    }
    f.written += rec.data.length;
    f.nextFrag++;
    h.stats.writtenBytesReceived += rec.data.length;
    if (rec.last) {
      q.inflight.delete(rec.head);
      split.addUsed(rec.head, rec.writtenLen);
      h.stats.usedChains++;
    }
    return true;
  }
}
