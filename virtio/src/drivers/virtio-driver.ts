// SPDX-License-Identifier: Apache-2.0
/**
 * `VirtioDriver`: what every front-end driver shares, written against `VirtioTransport` only (it
 * knows nothing of Argo): the initialization sequence of VirtIO 1.2 §3.1.1 (virtio-argo.md
 * §2.3) with its failure paths, queue setup in the driver's own memory, config reads under the
 * generation loop (§2.5.1), and interrupt dispatch to per-queue handlers.
 *
 * Initialization, normative (§3.1.1): "1. Reset the device. 2. Set the ACKNOWLEDGE status bit.
 * 3. Set the DRIVER status bit. 4. Read device feature bits, and write the subset of feature bits
 * understood by the OS and driver to the device. 5. Set the FEATURES_OK status bit. The driver
 * MUST NOT accept new feature bits after this step. 6. Re-read device status to ensure the
 * FEATURES_OK bit is still set: otherwise, the device does not support our subset of features
 * and the device is unusable. 7. Perform device-specific setup ... 8. Set the DRIVER_OK status
 * bit." and "If any of these steps go irrecoverably wrong, the driver SHOULD set the FAILED
 * status bit to indicate that it has given up on the device".
 *
 * Virtqueue reset (§2.6.1, with VIRTIO_F_RING_RESET): `resetQueue(i)` asks the transport to
 * reset queue i — which resolves only once the device has quiesced it — and only then takes back
 * the buffers still outstanding on it (Linux `virtqueue_detach_unused_buf`), returning their
 * tokens so the device-specific driver can reject or recycle them; `enableQueue(i, ...)` sets
 * the queue up again (any size the device allows), live at once.
 *
 * Hostile device (§4.9): a queue that breaks on a used-ring violation, or DEVICE_NEEDS_RESET,
 * makes the driver give up — FAILED, then a reset so the device stops touching the rings, then
 * every outstanding request is rejected (`onFailed`). Interrupts are coalesced per queue per
 * event-loop turn and an interrupt flood is counted. `checkDevice()` is the liveness check of
 * an idle driver: a device that lost DRIVER_OK was reset under it (its back end restarted).
 */
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
} from "../device-status.js";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_RESET,
  hasFeature,
  selectDriverFeatures,
} from "../features.js";
import { FloodGuard } from "../flood-guard.js";
import { SplitQueueDriver, type UsedBuffer } from "../queue/split-queue-driver.js";
import { packSplitRing } from "../queue/split-ring.js";
import { VirtQueueError } from "../queue/virtqueue-error.js";
import type { VirtioTransport } from "../transport/transport.js";
import { ViolationKind, ViolationLog } from "../violation-log.js";
import { VirtioDriverError, VirtioDriverErrorKind } from "./virtio-driver-error.js";

export interface VirtioDriverOptions {
  /** Driver-side violation counters (the driver's view of a hostile device). */
  readonly violations?: ViolationLog;
  /** Interrupts per second above which a flood is reported (default 100 000). */
  readonly interruptFloodLimit?: number;
}

/** Driver lifecycle. */
export type DriverState =
  | { readonly kind: "initializing" }
  | { readonly kind: "ready" }
  | { readonly kind: "failed"; readonly error: VirtioDriverError };

/** Shared front-end driver mechanics (see the module comment). */
export class VirtioDriver {
  readonly transport: VirtioTransport;
  readonly violations: ViolationLog;
  #features = 0n;
  #state: DriverState = { kind: "initializing" };
  readonly #queues = new Map<number, SplitQueueDriver<never>>();
  readonly #queueHandlers = new Map<number, () => void>();
  readonly #irqScheduled = new Set<number>();
  readonly #failedHandlers = new Set<(error: VirtioDriverError) => void>();
  readonly #configHandlers = new Set<() => void>();
  readonly #irqGuard: FloodGuard;
  readonly #unsubscribe: () => void;
  /** Queue index → the base of its ring allocation in `dma`. */
  readonly #ringAllocations = new Map<number, number>();

  constructor(transport: VirtioTransport, options: VirtioDriverOptions = {}) {
    this.transport = transport;
    this.violations = options.violations ?? new ViolationLog();
    this.#irqGuard = new FloodGuard(options.interruptFloodLimit ?? 100_000);
    this.#unsubscribe = transport.onInterrupt((event) => {
      if (this.#irqGuard.hit())
        this.violations.report(ViolationKind.interruptFlood, { kind: event.kind });
      if (event.kind === "usedBuffer") this.#scheduleQueue(event.queue);
      else void this.#onConfigChange();
    });
  }

  /** The negotiated features. */
  get features(): bigint {
    return this.#features;
  }

  get state(): DriverState {
    return this.#state;
  }

  /**
   * Steps 1–6 of §3.1.1: reset, ACKNOWLEDGE, DRIVER, feature selection, FEATURES_OK, re-read.
   * On failure sets FAILED and throws `VirtioDriverError`.
   */
  async negotiate(deviceType: number, supported: bigint, required = 0n): Promise<bigint> {
    const t = this.transport;
    if (t.deviceType !== deviceType) {
      throw new VirtioDriverError(
        VirtioDriverErrorKind.wrongDeviceType,
        `device type ${t.deviceType}, expected ${deviceType}`,
      );
    }
    await t.setStatus(0);
    await t.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    await t.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    const offered = await t.getDeviceFeatures();
    const selected = selectDriverFeatures(offered, supported);
    if (!selected.ok) return this.#initFailed(VirtioDriverErrorKind.noVersion1, selected.reason);
    const missing = required & ~offered;
    if (missing !== 0n) {
      return this.#initFailed(
        VirtioDriverErrorKind.missingFeature,
        `device lacks required features 0x${missing.toString(16)}`,
      );
    }
    await t.setDriverFeatures(selected.features);
    await t.setStatus(
      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK,
    );
    const status = await t.getStatus();
    if ((status & VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
      return this.#initFailed(
        VirtioDriverErrorKind.featuresRejected,
        "device cleared FEATURES_OK: feature subset rejected",
      );
    }
    this.#features = selected.features;
    return selected.features;
  }

  /**
   * Step 7 for one queue: allocates and zeroes its areas in the driver's memory, and tells the
   * transport where they are. `handler` runs (coalesced) on its used-buffer notifications.
   */
  async setupQueue<T>(
    index: number,
    handler: () => void,
    maxSize = 256,
  ): Promise<SplitQueueDriver<T>> {
    const r = await this.#createQueue<T>(index, handler, maxSize);
    if (!r.ok) return this.#initFailed(VirtioDriverErrorKind.queueUnavailable, r.reason, r.cause);
    return r.queue;
  }

  /**
   * Virtqueue reset (§2.6.1): resets queue `index` on the device — resolved only once the
   * device has stopped using it — then detaches every buffer still outstanding on it and
   * releases the ring. Returns the detached buffers' tokens (the caller rejects or recycles
   * them). Refused (`VirtioDriverError`, the queue untouched) without VIRTIO_F_RING_RESET, for
   * a queue that is not set up, or when the device refuses.
   */
  async resetQueue<T>(index: number): Promise<T[]> {
    if (this.#state.kind === "failed") throw this.#state.error;
    if (!hasFeature(this.#features, VIRTIO_F_RING_RESET)) {
      throw new VirtioDriverError(
        VirtioDriverErrorKind.missingFeature,
        `queue ${index} cannot be reset: VIRTIO_F_RING_RESET not negotiated`,
      );
    }
    const queue = this.#queues.get(index);
    if (queue === undefined) {
      throw new VirtioDriverError(
        VirtioDriverErrorKind.queueUnavailable,
        `queue ${index} cannot be reset: it is not set up`,
      );
    }
    try {
      await this.transport.resetQueue(index);
    } catch (err) {
      throw new VirtioDriverError(
        VirtioDriverErrorKind.queueResetRefused,
        `the device refused to reset queue ${index}`,
        { cause: err },
      );
    }
    // The device no longer touches the ring: reclaim it.
    this.#queues.delete(index);
    this.#queueHandlers.delete(index);
    const tokens = (queue as SplitQueueDriver<T>).detachAll();
    const base = this.#ringAllocations.get(index);
    if (base !== undefined) this.transport.dma.free(base);
    this.#ringAllocations.delete(index);
    return tokens;
  }

  /**
   * Re-enables queue `index` after `resetQueue`, as in initial setup (possibly with another
   * size); the queue is live when this resolves. A refusal rejects with `VirtioDriverError`
   * kind `queueUnavailable` and leaves the device as it was (not FAILED).
   */
  async enableQueue<T>(
    index: number,
    handler: () => void,
    maxSize = 256,
  ): Promise<SplitQueueDriver<T>> {
    if (this.#state.kind === "failed") throw this.#state.error;
    if (this.#queues.has(index)) {
      throw new VirtioDriverError(
        VirtioDriverErrorKind.queueUnavailable,
        `queue ${index} is already enabled`,
      );
    }
    const r = await this.#createQueue<T>(index, handler, maxSize);
    if (!r.ok)
      throw new VirtioDriverError(
        VirtioDriverErrorKind.queueUnavailable,
        r.reason,
        r.cause === undefined ? undefined : { cause: r.cause },
      );
    return r.queue;
  }

  async #createQueue<T>(
    index: number,
    handler: () => void,
    maxSize: number,
  ): Promise<
    | { readonly ok: true; readonly queue: SplitQueueDriver<T> }
    | { readonly ok: false; readonly reason: string; readonly cause?: unknown }
  > {
    const t = this.transport;
    const deviceMax = await t.getQueueMaxSize(index);
    if (deviceMax === 0) return { ok: false, reason: `queue ${index} does not exist` };
    const size = largestPowerOfTwoAtMost(Math.min(deviceMax, maxSize));
    const probe = packSplitRing(0, size);
    const base = t.dma.alloc(probe.bytes + 16, 16);
    const layout = packSplitRing(base, size);
    const queue = new SplitQueueDriver<T>({
      ram: t.ram,
      index,
      size,
      descAddr: layout.descAddr,
      availAddr: layout.availAddr,
      usedAddr: layout.usedAddr,
      eventIdx: hasFeature(this.#features, VIRTIO_F_EVENT_IDX),
      ...(hasFeature(this.#features, VIRTIO_F_INDIRECT_DESC) ? { indirectAllocator: t.dma } : {}),
      violations: this.violations,
    });
    // Registered before the transport call: on a live device (a re-enable) the first
    // interrupt may come before `setupQueue` resolves.
    this.#queues.set(index, queue as SplitQueueDriver<never>);
    this.#queueHandlers.set(index, handler);
    this.#ringAllocations.set(index, base);
    try {
      await t.setupQueue(index, size, layout);
    } catch (err) {
      this.#queues.delete(index);
      this.#queueHandlers.delete(index);
      this.#ringAllocations.delete(index);
      t.dma.free(base);
      return { ok: false, reason: `queue ${index} setup refused`, cause: err };
    }
    return { ok: true, queue };
  }

  /** Step 8: DRIVER_OK. */
  async driverOk(): Promise<void> {
    await this.transport.setStatus(
      VIRTIO_CONFIG_S_ACKNOWLEDGE |
        VIRTIO_CONFIG_S_DRIVER |
        VIRTIO_CONFIG_S_FEATURES_OK |
        VIRTIO_CONFIG_S_DRIVER_OK,
    );
    const status = await this.transport.getStatus();
    if (
      (status & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0 ||
      (status & VIRTIO_CONFIG_S_DRIVER_OK) === 0
    ) {
      return this.#initFailed(
        VirtioDriverErrorKind.deviceFailed,
        "device did not accept DRIVER_OK",
      );
    }
    this.#state = { kind: "ready" };
  }

  /** Reads config under the generation loop (§2.5.1), retrying at most `maxTries` times. */
  async readConfigStable(offset: number, len: number, maxTries = 16): Promise<Uint8Array> {
    for (let i = 0; i < maxTries; i++) {
      const before = await this.transport.getConfigGeneration();
      const bytes = await this.transport.readConfig(offset, len);
      const after = await this.transport.getConfigGeneration();
      if (before === after) return bytes;
    }
    throw new VirtioDriverError(
      VirtioDriverErrorKind.deviceFailed,
      "config generation never stabilised",
    );
  }

  /** Notifies the device about queue `index` if its suppression state asks for it. */
  async kick(queue: Pick<SplitQueueDriver, "index" | "kickPrepare">): Promise<void> {
    if (queue.kickPrepare()) await this.transport.notify(queue.index);
  }

  /**
   * Liveness check of a ready device: reads its status and gives up on it (`fail`) when the
   * device no longer says what the driver set — FAILED or DEVICE_NEEDS_RESET, or DRIVER_OK gone
   * because the device was reset under us (a back end that restarted answers status 0). An
   * idle driver has nothing in flight to time out, so without this it would not notice that
   * its device is gone until its next request. Resolves with whether the device is still live.
   */
  async checkDevice(): Promise<boolean> {
    if (this.#state.kind !== "ready") return this.#state.kind !== "failed";
    const status = await this.transport.getStatus();
    // The driver may have failed meanwhile (a request timed out): nothing left to decide.
    if (this.#stateNow().kind !== "ready") return false;
    const lost =
      (status & (VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_NEEDS_RESET)) !== 0
        ? "device reports FAILED or DEVICE_NEEDS_RESET"
        : (status & VIRTIO_CONFIG_S_DRIVER_OK) === 0
          ? "device lost DRIVER_OK: it was reset under the driver"
          : undefined;
    if (lost === undefined) return true;
    await this.fail(
      new VirtioDriverError(
        VirtioDriverErrorKind.deviceFailed,
        `${lost} (status 0x${status.toString(16)})`,
      ),
    );
    return false;
  }

  /** The state now (a call, so a check after an await is not narrowed away by the compiler). */
  #stateNow(): DriverState {
    return this.#state;
  }

  /** Runs `f` when the driver fails (device violation, DEVICE_NEEDS_RESET). */
  onFailed(f: (error: VirtioDriverError) => void): void {
    this.#failedHandlers.add(f);
  }

  /** Runs `f` on a configuration change that is not a failure. */
  onConfigChange(f: () => void): void {
    this.#configHandlers.add(f);
  }

  /**
   * Gives up on the device: FAILED, then a reset (so it stops touching our rings), then every
   * outstanding request is rejected through `onFailed`. Idempotent.
   */
  async fail(error: VirtioDriverError): Promise<void> {
    if (this.#state.kind === "failed") return;
    this.#state = { kind: "failed", error };
    try {
      const status = await this.transport.getStatus();
      await this.transport.setStatus(status | VIRTIO_CONFIG_S_FAILED);
      await this.transport.setStatus(0);
    } finally {
      for (const q of this.#queues.values()) q.detachAll();
      for (const f of this.#failedHandlers) f(error);
    }
  }

  /** Resets the device and releases the driver's rings; the driver is unusable afterwards. */
  async close(): Promise<void> {
    this.#unsubscribe();
    await this.transport.setStatus(0);
    for (const q of this.#queues.values()) q.detachAll();
    for (const a of this.#ringAllocations.values()) this.transport.dma.free(a);
    this.#ringAllocations.clear();
    this.#queues.clear();
    if (this.#state.kind !== "failed") {
      const error = new VirtioDriverError(VirtioDriverErrorKind.reset, "driver closed");
      this.#state = { kind: "failed", error };
      for (const f of this.#failedHandlers) f(error);
    }
  }

  /**
   * Collects every used buffer of `queue` into `onUsed`, re-arming its interrupt when empty and
   * draining on if more arrived meanwhile (Linux's virtqueue_enable_cb race), under `guard`.
   * Returns false when the driver failed.
   */
  drainUsed<T>(queue: SplitQueueDriver<T>, onUsed: (used: UsedBuffer<T>) => void): boolean {
    return this.guard(() => {
      for (;;) {
        const used = queue.getBuf();
        if (used !== undefined) onUsed(used);
        else if (queue.enableCb()) return;
      }
    });
  }

  /**
   * Runs `f` (a queue drain) and turns a device violation it throws into `fail()`. Returns
   * false when the driver failed.
   */
  guard(f: () => void): boolean {
    try {
      f();
      return true;
    } catch (err) {
      if (err instanceof VirtQueueError) {
        void this.fail(
          new VirtioDriverError(
            VirtioDriverErrorKind.deviceFailed,
            `device violation: ${err.message}`,
            { cause: err },
          ),
        );
        return false;
      }
      throw err;
    }
  }

  #scheduleQueue(index: number): void {
    if (this.#irqScheduled.has(index)) return;
    this.#irqScheduled.add(index);
    queueMicrotask(() => {
      this.#irqScheduled.delete(index);
      if (this.#state.kind === "failed") return;
      const handler = this.#queueHandlers.get(index);
      // A notification for a queue we never set up is spurious (legal, §2.3): ignore it.
      if (handler !== undefined) handler();
    });
  }

  async #onConfigChange(): Promise<void> {
    if (this.#state.kind === "failed") return;
    const status = await this.transport.getStatus();
    if ((status & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) {
      await this.fail(
        new VirtioDriverError(VirtioDriverErrorKind.deviceFailed, "device set DEVICE_NEEDS_RESET"),
      );
      return;
    }
    for (const f of this.#configHandlers) f();
  }

  async #initFailed(kind: VirtioDriverErrorKind, message: string, cause?: unknown): Promise<never> {
    const error = new VirtioDriverError(kind, message, cause === undefined ? undefined : { cause });
    this.#state = { kind: "failed", error };
    const status = await this.transport.getStatus();
    await this.transport.setStatus(status | VIRTIO_CONFIG_S_FAILED);
    throw error;
  }
}

function largestPowerOfTwoAtMost(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}
