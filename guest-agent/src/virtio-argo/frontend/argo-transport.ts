// SPDX-License-Identifier: Apache-2.0
/**
 * `ArgoTransport`: the virtio-argo front-end transport (virtio-argo.md §4.5–§4.7, §4.9), a
 * `VirtioTransport` over Argo that no driver can tell from the loopback one. The driver keeps
 * ordinary split rings in its own memory (§4.6 step 1); this shim is the device side of those
 * rings inside the front-end guest (a `SplitQueue` over the driver's `GuestRam`) and talks to
 * the back end only in messages that carry no guest address.
 *
 * Control plane (§4.5). Every register access is a request with a token; one request is
 * outstanding per device at a time; no answer within `timeoutMs` (or a send the hypervisor
 * refuses) makes the device FAILED with that errno (ETIMEDOUT, ECONNREFUSED, EACCES, ...).
 * Status reads and writes never reject: a failed device reads FAILED | DEVICE_NEEDS_RESET, so
 * the driver gives up through its normal path, and a reset (status 0) tries to reach the back
 * end again — that is how a front end recovers after a back-end restart.
 *
 * Data plane (§4.6 "ring-sync"): `RingSync` (ring-sync.ts) — kicks become AVAIL messages that
 * point at the driver's buffers, USED messages are checked and applied to the driver's rings —
 * with its `RequestWatchdog` (request-watchdog.ts): a request unanswered within
 * `requestTimeoutMs` makes the device FAILED with ETIMEDOUT (a hung back end). A back-end
 * violation breaks the device (DEVICE_NEEDS_RESET + config interrupt), is counted and logged
 * rate-limited, and never throws.
 *
 * Config writes (SET_CONFIG) carry a generation the back end checks (-EAGAIN when stale). A
 * write the driver made conditional (`generation` given) surfaces the refusal as
 * `StaleConfigGenerationError`; an unconditional one (a virtio-mmio register write, e.g.
 * console `emerg_wr`) is sent with the last generation seen and, when refused, re-sent after
 * re-reading the generation, at most `CONFIG_WRITE_TRIES` times — its bytes do not depend on
 * the config, so a retry is exactly what the driver would do.
 *
 * Virtqueue reset (RESET_VQUEUE, VIRTIO_F_RING_RESET). The shim first stops the queue (no more
 * kicks collected), lets the AVAIL messages already queued leave (so the reset cannot overtake
 * them on the ring), drops the queue's in-flight records, and then asks the back end, which
 * answers only once its model has quiesced the queue. USED records for that queue that arrive
 * in between are late completions of reclaimed buffers: dropped and counted
 * (`stats.lateUsedAfterQueueReset`), never applied. SET_VQUEUE on a live device re-enables a
 * reset queue and makes it live at once.
 */
import {
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_RING_RESET,
  hasFeature,
  type DmaAllocator,
  type GuestRam,
  type SplitRingAddresses,
  ViolationKind,
  ViolationLog,
  QueueResetError,
  QueueResetRefusal,
  StaleConfigGenerationError,
  type VirtioInterruptEvent,
  type VirtioTransport,
} from "@hmx/virtio";
import {
  VioaDecodeError,
  VioaMsg,
  decodeControlResponse,
  decodeEventConfig,
  decodeFrame,
  encodeControlRequest,
  encodeMessage,
  type ControlRequest,
  type ControlResponse,
  type ControlResponseBody,
} from "../wire/messages.js";
import { TransportErrno, VirtioTransportError } from "../wire/transport-error.js";
import { VioaSendError, type VioaChannel } from "../channel/vioa-channel.js";
import type { VioaHub } from "../channel/vioa-hub.js";
import { RingSync } from "./ring-sync.js";

/** What the transport needs to know about its device (a front-end entry of the VARG table). */
export interface ArgoDeviceBinding {
  readonly devIndex: number;
  readonly deviceId: number;
  readonly backendDomid: number;
  readonly bePort: number;
  readonly fePort: number;
  readonly ringLen: number;
  readonly name: string;
}

export interface ArgoTransportOptions {
  readonly hub: VioaHub;
  /** The driver's memory (a `ShadowGuestRam` in a guest). */
  readonly ram: GuestRam;
  readonly dma: DmaAllocator;
  readonly device: ArgoDeviceBinding;
  /** Control request timeout (default 3000 ms). */
  readonly timeoutMs?: number;
  /** How long a request chain may stay outstanding (default 10 000 ms). */
  readonly requestTimeoutMs?: number;
  /** How long the probe waits for the back end's ring to exist (default 10 000 ms). */
  readonly probeTimeoutMs?: number;
  readonly violations?: ViolationLog;
}

/** Transport-level counters (beyond the `ViolationLog`). */
export interface ArgoTransportStats {
  controlRequests: number;
  controlTimeouts: number;
  kicks: number;
  availMessages: number;
  availChains: number;
  usedMessages: number;
  usedChains: number;
  configEvents: number;
  staleResponses: number;
  failures: number;
  recoveries: number;
  readBytesSent: number;
  writtenBytesReceived: number;
  /** SET_CONFIG re-sent after a stale-generation refusal. */
  configWriteRetries: number;
  queueResets: number;
  /** USED records for a queue after its reset began: dropped, never applied. */
  lateUsedAfterQueueReset: number;
}

type State =
  | { readonly kind: "ready" }
  | { readonly kind: "failed"; readonly errno: number; readonly reason: string };

interface PendingControl {
  readonly token: number;
  readonly msgId: number;
  readonly resolve: (r: ControlResponse) => void;
}

const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
const NOTIFY_EXISTS = 1;
/** Sends of an unconditional config write before a stale-generation refusal is surfaced. */
export const CONFIG_WRITE_TRIES = 4;

/** The virtio-argo front-end transport (see the module comment). */
export class ArgoTransport implements VirtioTransport {
  readonly deviceType: number;
  readonly ram: GuestRam;
  readonly dma: DmaAllocator;
  readonly device: ArgoDeviceBinding;
  readonly violations: ViolationLog;
  readonly stats: ArgoTransportStats = {
    controlRequests: 0,
    controlTimeouts: 0,
    kicks: 0,
    availMessages: 0,
    availChains: 0,
    usedMessages: 0,
    usedChains: 0,
    configEvents: 0,
    staleResponses: 0,
    failures: 0,
    recoveries: 0,
    readBytesSent: 0,
    writtenBytesReceived: 0,
    configWriteRetries: 0,
    queueResets: 0,
    lateUsedAfterQueueReset: 0,
  };
  readonly #hub: VioaHub;
  readonly #timeoutMs: number;
  readonly #handlers = new Set<(event: VirtioInterruptEvent) => void>();
  readonly #rings: RingSync;
  readonly #kickPending = new Set<number>();
  readonly #irqPending = new Set<number>();
  #configIrqPending = false;
  #channel: VioaChannel | undefined;
  #state: State = { kind: "ready" };
  /** The status byte the back end last reported. */
  #status = 0;
  /** Set when this side found the back end misbehaving (DEVICE_NEEDS_RESET as the driver reads it). */
  #broken = false;
  #features = 0n;
  #generation = 0;
  /** The back end's queue count (DEVICE_INFO max_vq_count). */
  #queueCount = 0;
  #token = 1;
  #pending: PendingControl | undefined;
  #controlLock: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(o: ArgoTransportOptions) {
    this.#hub = o.hub;
    this.ram = o.ram;
    this.dma = o.dma;
    this.device = o.device;
    this.deviceType = o.device.deviceId;
    this.violations = o.violations ?? new ViolationLog();
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#rings = new RingSync({
      ram: this.ram,
      violations: this.violations,
      device: this.device,
      stats: this.stats,
      requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      features: () => this.#features,
      failed: () => this.#state.kind === "failed",
      stopped: () => this.#state.kind === "failed" || this.#broken,
      send: (parts) => this.#channel?.send(parts) ?? Promise.resolve(),
      fail: (errno, reason, cause) => {
        this.#fail(errno, reason, cause);
      },
      breakDevice: (kind, details) => {
        this.#breakDevice(kind, details);
      },
      raiseQueue: (queue) => {
        this.#raiseQueue(queue);
      },
      errnoOf,
    });
  }

  /**
   * Probes a device: registers our ring (unicast, partner = the back end; MAC-checked), waits for
   * the back end's ring, and asks DEVICE_INFO. Rejects with `VirtioTransportError` carrying the
   * errno (EACCES/EPERM for a MAC denial, ETIMEDOUT, ENODEV for a device of another type);
   * `failure` then says the same.
   */
  static async probe(o: ArgoTransportOptions): Promise<ArgoTransport> {
    const t = new ArgoTransport(o);
    const d = o.device;
    try {
      t.#channel = await o.hub.open({
        aport: d.fePort,
        peerDomid: d.backendDomid,
        peerPort: d.bePort,
        ringLen: d.ringLen,
        stagingBytes: 64 * 1024,
        onMessage: (m) => {
          t.#onMessage(m);
        },
        // The driver's dirty memory rides in front of every send (see the module comment).
        prelude: () => o.ram.takeWrites(),
      });
    } catch (err) {
      throw t.#probeFailed(errnoOf(err), `cannot register the front-end ring of ${d.name}`, err);
    }
    await t.#waitForBackend(o.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
    let info;
    try {
      info = await t.#control({ id: VioaMsg.DEVICE_INFO });
    } catch (err) {
      throw t.#probeFailed(errnoOf(err), `DEVICE_INFO of ${d.name} failed`, err);
    }
    if (info.id !== VioaMsg.DEVICE_INFO || info.deviceId !== d.deviceId) {
      throw t.#probeFailed(
        TransportErrno.ENODEV,
        `${d.name}: the back end serves device type ${info.id === VioaMsg.DEVICE_INFO ? info.deviceId : "?"}, the table says ${d.deviceId}`,
      );
    }
    t.#queueCount = info.maxVqCount;
    return t;
  }

  /** The failure that made the device FAILED, if it is. */
  get failure(): { errno: number; reason: string } | undefined {
    return this.#state.kind === "failed"
      ? { errno: this.#state.errno, reason: this.#state.reason }
      : undefined;
  }

  // ---- VirtioTransport ----

  async getStatus(): Promise<number> {
    if (this.#state.kind === "failed") return this.#failedStatus();
    try {
      const r = await this.#control({ id: VioaMsg.GET_DEVICE_STATUS });
      if (r.id === VioaMsg.GET_DEVICE_STATUS) this.#status = r.status;
    } catch {
      return this.#failedStatus();
    }
    return this.#status | (this.#broken ? VIRTIO_CONFIG_S_NEEDS_RESET : 0);
  }

  async setStatus(status: number): Promise<void> {
    if (status === 0) {
      await this.#reset();
      return;
    }
    if (this.#state.kind === "failed") {
      this.#status |= status & VIRTIO_CONFIG_S_FAILED;
      return;
    }
    const wasLive = (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    try {
      const r = await this.#control({ id: VioaMsg.SET_DEVICE_STATUS, status });
      if (r.id === VioaMsg.SET_DEVICE_STATUS) this.#status = r.status;
    } catch {
      return; // the device is FAILED now; the driver learns it from its next status read
    }
    const live =
      (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 &&
      (this.#status & VIRTIO_CONFIG_S_NEEDS_RESET) === 0;
    if (live && !wasLive) this.#goLive();
  }

  async getDeviceFeatures(): Promise<bigint> {
    const r = await this.#control({ id: VioaMsg.GET_DEV_FEATURES, index: 0, num: 4 });
    if (r.id !== VioaMsg.GET_DEV_FEATURES)
      throw this.#protocol("GET_DEV_FEATURES answered with another body");
    return r.words.reduce((acc, w, i) => acc | (BigInt(w >>> 0) << BigInt(32 * (r.index + i))), 0n);
  }

  async setDriverFeatures(features: bigint): Promise<void> {
    const words = [0, 1, 2, 3].map((i) => Number((features >> BigInt(32 * i)) & 0xffff_ffffn));
    await this.#control({ id: VioaMsg.SET_DRV_FEATURES, index: 0, words });
    this.#features = features;
  }

  async getConfigGeneration(): Promise<number> {
    const r = await this.#control({ id: VioaMsg.GET_CONFIG, offset: 0, size: 0 });
    if (r.id !== VioaMsg.GET_CONFIG) throw this.#protocol("GET_CONFIG answered with another body");
    this.#generation = r.generation;
    return r.generation;
  }

  async readConfig(offset: number, len: number): Promise<Uint8Array> {
    const r = await this.#control({ id: VioaMsg.GET_CONFIG, offset, size: len });
    if (r.id !== VioaMsg.GET_CONFIG || r.bytes.length !== len)
      throw this.#protocol("GET_CONFIG returned the wrong size");
    this.#generation = r.generation;
    return r.bytes;
  }

  async writeConfig(offset: number, bytes: Uint8Array, generation?: number): Promise<void> {
    const send = (g: number): Promise<ControlResponseBody> =>
      this.#control({ id: VioaMsg.SET_CONFIG, generation: g, offset, bytes });
    const stale = (err: unknown): boolean =>
      err instanceof VirtioTransportError && err.errno === TransportErrno.EAGAIN;
    if (generation !== undefined) {
      // Conditional: the caller decides what a refusal means.
      try {
        await send(generation);
      } catch (err) {
        if (stale(err)) throw new StaleConfigGenerationError(offset, generation, { cause: err });
        throw err;
      }
      return;
    }
    // Unconditional: retry with a fresh generation, bounded.
    let g = this.#generation;
    for (let attempt = 1; ; attempt++) {
      try {
        await send(g);
        return;
      } catch (err) {
        if (!stale(err)) throw err;
        if (attempt >= CONFIG_WRITE_TRIES)
          throw new StaleConfigGenerationError(offset, g, { cause: err });
      }
      this.stats.configWriteRetries++;
      g = await this.getConfigGeneration();
    }
  }

  async getQueueMaxSize(index: number): Promise<number> {
    const r = await this.#control({ id: VioaMsg.GET_VQUEUE, index });
    if (r.id !== VioaMsg.GET_VQUEUE) throw this.#protocol("GET_VQUEUE answered with another body");
    return r.maxSize;
  }

  async setupQueue(index: number, size: number, addresses: SplitRingAddresses): Promise<void> {
    // Only the index and size travel (§4.5 SET_VQUEUE: "No guest addresses").
    await this.#control({ id: VioaMsg.SET_VQUEUE, index, size });
    // On a live device this was the re-enable of a reset queue: it is live now.
    this.#rings.setup(index, size, addresses, this.#isLive());
  }

  async resetQueue(index: number): Promise<void> {
    // The back end's checks, made here first: once the in-flight records are dropped there is
    // no going back, so a request the back end would refuse is never sent.
    const refuse = (refusal: QueueResetRefusal, reason: string): QueueResetError =>
      new QueueResetError(index, refusal, `${this.device.name}: ${reason}`);
    if (!Number.isInteger(index) || index < 0 || index >= this.#queueCount)
      throw refuse(
        QueueResetRefusal.noSuchQueue,
        `queue ${index} does not exist (the device has ${this.#queueCount} queues)`,
      );
    if (
      !hasFeature(this.#features, VIRTIO_F_RING_RESET) ||
      (this.#status & VIRTIO_CONFIG_S_FEATURES_OK) === 0
    )
      throw refuse(
        QueueResetRefusal.notNegotiated,
        `queue ${index} cannot be reset: VIRTIO_F_RING_RESET not negotiated`,
      );
    if (this.#state.kind === "failed" || this.#broken)
      throw refuse(QueueResetRefusal.notReady, `queue ${index} cannot be reset: device failed`);
    this.stats.queueResets++;
    // Stop collecting kicks for it, and let what was collected already leave first.
    await this.#rings.stop(index);
    let r: ControlResponseBody;
    try {
      r = await this.#control({ id: VioaMsg.RESET_VQUEUE, index });
    } catch (err) {
      if (err instanceof VirtioTransportError && this.failure === undefined) {
        // The back end refused what our own checks allowed: the two sides disagree about the
        // queue now, so the device needs a reset.
        this.#breakDevice(ViolationKind.malformedRequest, {
          queue: index,
          reason: `RESET_VQUEUE refused: ${err.message}`,
        });
      }
      throw new QueueResetError(
        index,
        QueueResetRefusal.notReady,
        `${this.device.name}: queue ${index} reset failed`,
        { cause: err },
      );
    }
    if (r.id !== VioaMsg.RESET_VQUEUE)
      throw this.#protocol("RESET_VQUEUE answered with another body");
  }

  notify(index: number): Promise<void> {
    this.stats.kicks++;
    if (this.#state.kind === "failed" || this.#broken) return Promise.resolve();
    if (!this.#kickPending.has(index)) {
      this.#kickPending.add(index);
      queueMicrotask(() => {
        this.#kickPending.delete(index);
        this.#rings.collect(index);
      });
    }
    return Promise.resolve();
  }

  onInterrupt(handler: (event: VirtioInterruptEvent) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Closes the channel (our ring is unregistered); the transport is unusable afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#rings.stopWatchdog();
    this.#fail(TransportErrno.ENODEV, "transport closed");
    await this.#channel?.close();
  }

  // ---- control plane ----

  async #waitForBackend(timeoutMs: number): Promise<void> {
    const d = this.device;
    const deadline = Date.now() + timeoutMs;
    // Bounded by the deadline; polls with a growing pause.
    for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
      const { ret, entries } = await this.#hub.client.notify([
        { ring: { domainId: d.backendDomid, aport: d.bePort }, spaceRequired: 0 },
      ]);
      if (ret < 0) throw this.#probeFailed(-ret, `the back end of ${d.name} cannot be queried`);
      if (((entries[0]?.flags ?? 0) & NOTIFY_EXISTS) !== 0) return;
      if (Date.now() >= deadline)
        throw this.#probeFailed(
          TransportErrno.ETIMEDOUT,
          `the back end of ${d.name} (vm${d.backendDomid}:0x${d.bePort.toString(16)}) did not appear`,
        );
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** One control request; serialised, so at most one is outstanding (§4.5 rules). */
  #control(req: ControlRequest, allowFailed = false): Promise<ControlResponseBody> {
    const run = async (): Promise<ControlResponseBody> => {
      if (this.#state.kind === "failed" && !allowFailed) {
        throw new VirtioTransportError(
          this.#state.errno,
          `${this.device.name} has FAILED: ${this.#state.reason}`,
        );
      }
      const channel = this.#channel;
      if (channel === undefined || this.#closed)
        throw new VirtioTransportError(TransportErrno.ENODEV, "transport closed");
      this.stats.controlRequests++;
      const token = this.#token;
      this.#token = (this.#token + 1) & 0xffff || 1;
      const msg = encodeMessage(
        { response: false, msgId: req.id, devId: this.device.devIndex, token },
        encodeControlRequest(req),
      );
      let timer: NodeJS.Timeout | undefined;
      const answered = new Promise<ControlResponse | "timeout">((resolve) => {
        this.#pending = { token, msgId: req.id, resolve };
        timer = setTimeout(() => {
          resolve("timeout");
        }, this.#timeoutMs);
      });
      try {
        // The timeout covers the send too: a back end that died with its ring registered
        // never drains it, and a send waiting for room in a full ring would otherwise wait
        // forever — and with it this request, the control lock, and the driver's reset.
        let sendError: unknown;
        const sent = channel.send([{ bytes: msg }]).then(
          () => true,
          (err: unknown) => {
            sendError = err;
            return false;
          },
        );
        if (!(await Promise.race([sent, answered.then(() => true)]))) {
          throw this.#fail(
            errnoOf(sendError),
            `control request 0x${req.id.toString(16)} could not be sent`,
            sendError,
          );
        }
        const r = await answered;
        if (r === "timeout") {
          this.stats.controlTimeouts++;
          throw this.#fail(
            TransportErrno.ETIMEDOUT,
            `no answer to control request 0x${req.id.toString(16)} within ${this.#timeoutMs} ms`,
          );
        }
        if (r.ret < 0 || r.body === undefined)
          throw new VirtioTransportError(
            -r.ret || TransportErrno.EIO,
            `control request 0x${req.id.toString(16)} refused`,
          );
        return r.body;
      } finally {
        clearTimeout(timer);
        if (this.#pending?.token === token) this.#pending = undefined;
      }
    };
    const p = this.#controlLock.then(run, run);
    this.#controlLock = p.catch(() => undefined);
    return p;
  }

  /** Status 0: forget the queues; if FAILED, try to reach the back end again (recovery). */
  async #reset(): Promise<void> {
    const wasFailed = this.#state.kind === "failed";
    this.#dropQueues();
    try {
      const r = await this.#control({ id: VioaMsg.SET_DEVICE_STATUS, status: 0 }, true);
      if (r.id === VioaMsg.SET_DEVICE_STATUS) this.#status = r.status;
      this.#broken = false;
      if (wasFailed && !this.#closed) {
        this.stats.recoveries++;
        this.#state = { kind: "ready" };
      }
    } catch {
      // Still unreachable: the device stays FAILED; a later reset tries again.
    }
  }

  #dropQueues(): void {
    this.#rings.drop();
  }

  #failedStatus(): number {
    return this.#status | VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_NEEDS_RESET;
  }

  /** Marks the device FAILED (idempotent) and tells the driver; returns the error to throw. */
  #fail(errno: number, reason: string, cause?: unknown): VirtioTransportError {
    const err = new VirtioTransportError(
      errno,
      `${this.device.name}: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
    if (this.#state.kind !== "failed") {
      this.stats.failures++;
      this.#state = { kind: "failed", errno, reason };
      this.#dropQueues();
      this.#pending?.resolve({ ret: -errno });
      this.#raiseConfig();
    }
    return err;
  }

  #probeFailed(errno: number, reason: string, cause?: unknown): VirtioTransportError {
    const err = this.#fail(errno, reason, cause);
    void this.#channel?.close();
    return err;
  }

  #protocol(reason: string): VirtioTransportError {
    return new VirtioTransportError(TransportErrno.EPROTO, `${this.device.name}: ${reason}`);
  }

  // ---- data plane (ring-sync.ts) ----

  /** DRIVER_OK accepted: build the shim's device-side queues and send what is posted already. */
  #goLive(): void {
    this.#rings.goLive();
  }

  #isLive(): boolean {
    return (
      (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 &&
      (this.#status & VIRTIO_CONFIG_S_NEEDS_RESET) === 0 &&
      this.#state.kind !== "failed" &&
      !this.#broken
    );
  }

  // ---- receive ----

  #onMessage(data: Buffer): void {
    try {
      const f = decodeFrame(data);
      if (f.devId !== this.device.devIndex)
        throw new VioaDecodeError(`dev_id ${f.devId} on device ${this.device.devIndex}'s ring`);
      if (f.response) {
        this.#onResponse(f.msgId, f.token, f.payload);
        return;
      }
      switch (f.msgId) {
        case VioaMsg.EVENT_USED:
          this.#rings.onUsed(f.payload);
          return;
        case VioaMsg.EVENT_CONFIG: {
          decodeEventConfig(f.payload);
          this.stats.configEvents++;
          this.#raiseConfig();
          return;
        }
        default:
          throw new VioaDecodeError(
            `unexpected message 0x${f.msgId.toString(16)} from the back end`,
          );
      }
    } catch (err) {
      if (!(err instanceof VioaDecodeError)) throw err;
      this.#breakDevice(ViolationKind.malformedRequest, { rule: err.rule });
    }
  }

  #onResponse(msgId: number, token: number, payload: Uint8Array): void {
    const p = this.#pending;
    if (p?.token !== token || p.msgId !== msgId) {
      // A late answer to a request that timed out, or a forged one: never acted on.
      this.stats.staleResponses++;
      this.violations.report(ViolationKind.malformedRequest, {
        device: this.device.name,
        reason: "response matches no outstanding request",
        token,
        msgId,
      });
      return;
    }
    this.#pending = undefined;
    p.resolve(decodeControlResponse(msgId, payload));
  }

  /** A back-end violation: count it, stop using the device, ask the driver for a reset. */
  #breakDevice(kind: ViolationKind, details: Record<string, unknown>): void {
    this.violations.report(kind, { device: this.device.name, side: "frontend", ...details });
    if (this.#broken) return;
    this.#broken = true;
    this.#rings.stopWatchdog();
    this.#raiseConfig();
  }

  #raiseQueue(queue: number): void {
    if (this.#irqPending.has(queue)) return;
    this.#irqPending.add(queue);
    queueMicrotask(() => {
      this.#irqPending.delete(queue);
      for (const h of this.#handlers) h({ kind: "usedBuffer", queue });
    });
  }

  #raiseConfig(): void {
    if (this.#configIrqPending) return;
    this.#configIrqPending = true;
    queueMicrotask(() => {
      this.#configIrqPending = false;
      for (const h of this.#handlers) h({ kind: "configChange" });
    });
  }
}

/** The errno of a failure from the hub, the channel or libargo (EIO when unknown). */
export function errnoOf(err: unknown): number {
  if (err instanceof VirtioTransportError || err instanceof VioaSendError) return err.errno;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    const n = (TransportErrno as Record<string, number>)[code];
    if (n !== undefined) return n;
    if (code === "EADDRINUSE") return TransportErrno.EEXIST;
  }
  return TransportErrno.EIO;
}
