// SPDX-License-Identifier: Apache-2.0
/**
 * `VirtioDeviceController`: the device side of the control plane for one device model — what a
 * virtio-mmio register file is to a device (VirtIO 1.2 §4.2.2; virtio-argo.md §2.10) and what the
 * Argo device host will do on GET_DEV_FEATURES / SET_DRV_FEATURES / SET_DEVICE_STATUS /
 * GET_CONFIG / SET_VQUEUE messages (§4.5), written once for every transport (rust-vmm's
 * `VirtioDevice::ack_device_status` default method, Firecracker `MmioTransport`).
 *
 * It owns the status byte (driven by the `device-status.ts` table), the driver's feature
 * selection, the queue setups, and the device's activation:
 * - features may be written only between DRIVER and FEATURES_OK (§3.1.1 step 4–5; "The driver
 *   MUST NOT accept ... new features after FEATURES_OK");
 * - setting FEATURES_OK checks the selection (`checkDriverFeatures` plus the model's own rules);
 *   a bad selection leaves FEATURES_OK clear, which is how the driver's step-6 re-read learns it
 *   was rejected;
 * - queues may be set up between FEATURES_OK and DRIVER_OK; DRIVER_OK creates them through the
 *   transport's factory and activates the model; a setup the factory rejects puts the device in
 *   DEVICE_NEEDS_RESET instead of activating it;
 * - writing 0 resets: the model quiesces (`reset()` awaits in-flight work) before the status
 *   reads 0 again, so "the driver treats the reset as complete when it reads status 0" holds;
 * - kicks before DRIVER_OK are ignored and counted; kick floods are detected and counted;
 * - a virtqueue reset (VirtIO 1.2 §2.6.1, only with VIRTIO_F_RING_RESET) stops that one queue
 *   and resolves once the model has quiesced it; setting the queue up again afterwards — even
 *   after DRIVER_OK, and with another size — re-enables it at once ("re-enable the queue
 *   exactly as in initial setup");
 * - a config write that names a generation is refused unless that generation is current
 *   (virtio-argo SET_CONFIG, reference §4.5), counted in `stats.staleConfigWrites` — a race,
 *   not a violation.
 *
 * `B` is the transport's per-queue binding: ring addresses for the loopback transport, the data
 * ring binding for Argo (which never sends guest addresses, §4.5 SET_VQUEUE).
 */
import { ConfigSpaceError, ConfigSpaceErrorKind, type ConfigSpace } from "./config-space.js";
import {
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  classifyStatusWrite,
  describeStatus,
} from "./device-status.js";
import type { VirtioDevice, VirtioInterrupt } from "./device.js";
import { VIRTIO_F_RING_RESET, checkDriverFeatures, hasFeature } from "./features.js";
import { FloodGuard } from "./flood-guard.js";
import type { DeviceQueue } from "./queue/device-queue.js";
import { isValidQueueSize } from "./queue/split-ring.js";
import { QueueResetRefusal } from "./transport/transport-errors.js";
import { ViolationKind, type ViolationLog } from "./violation-log.js";

/** A queue the driver configured, awaiting DRIVER_OK. */
export interface QueueSetup<B> {
  readonly index: number;
  readonly size: number;
  readonly binding: B;
}

/** Builds a device-side queue when the driver sets DRIVER_OK; throws if the setup is unusable. */
export type DeviceQueueFactory<B> = (
  setup: QueueSetup<B>,
  features: bigint,
  hooks: { readonly onBroken: (reason: string) => void },
) => DeviceQueue;

export interface VirtioDeviceControllerOptions<B> {
  readonly device: VirtioDevice;
  readonly createQueue: DeviceQueueFactory<B>;
  readonly violations: ViolationLog;
  /** Raises a configuration change notification towards the driver. */
  readonly onConfigChange: () => void;
  /** Kicks per second per device above which a flood is reported (default 100 000). */
  readonly kickFloodLimit?: number;
}

/** Counters of the control plane's decisions. */
export interface ControllerStats {
  resets: number;
  activations: number;
  featureRejections: number;
  kicks: number;
  queueResets: number;
  queueReenables: number;
  staleConfigWrites: number;
}

/** The outcome of a virtqueue reset request. */
export type QueueResetResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly refusal: QueueResetRefusal; readonly reason: string };

/** Device-side control plane for one device model (see the module comment). */
export class VirtioDeviceController<B> {
  readonly device: VirtioDevice;
  readonly stats: ControllerStats = {
    resets: 0,
    activations: 0,
    featureRejections: 0,
    kicks: 0,
    queueResets: 0,
    queueReenables: 0,
    staleConfigWrites: 0,
  };
  readonly #o: VirtioDeviceControllerOptions<B>;
  /** Driver-owned status bits. */
  #status = 0;
  #needsReset = false;
  #driverFeatures = 0n;
  readonly #queues = new Map<number, QueueSetup<B>>();
  /** Queues reset after DRIVER_OK, which may be set up (re-enabled) again while live. */
  readonly #resetQueues = new Set<number>();
  readonly #kickGuard: FloodGuard;
  readonly #interrupt: VirtioInterrupt;

  constructor(options: VirtioDeviceControllerOptions<B>) {
    this.#o = options;
    this.device = options.device;
    this.#kickGuard = new FloodGuard(options.kickFloodLimit ?? 100_000);
    this.#interrupt = {
      configChanged: () => {
        if ((this.#status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.#o.onConfigChange();
      },
      needsReset: (reason) => {
        this.#enterNeedsReset(reason);
      },
    };
    this.device.config.onChange(() => {
      this.#interrupt.configChanged();
    });
  }

  get config(): ConfigSpace {
    return this.device.config;
  }

  /** The status as the driver reads it (driver bits plus DEVICE_NEEDS_RESET). */
  get status(): number {
    return this.#status | (this.#needsReset ? VIRTIO_CONFIG_S_NEEDS_RESET : 0);
  }

  /** DeviceFeatures. */
  get deviceFeatures(): bigint {
    return this.device.availableFeatures;
  }

  /** The features accepted so far (final once FEATURES_OK is set). */
  get driverFeatures(): bigint {
    return this.#driverFeatures;
  }

  /** QueueNumMax for `index`; 0 means the queue does not exist. */
  queueMaxSize(index: number): number {
    return this.device.queueMaxSizes[index] ?? 0;
  }

  /** DriverFeatures: accepted only after DRIVER and before FEATURES_OK. */
  setDriverFeatures(accepted: bigint): void {
    if (
      (this.#status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 ||
      (this.#status & VIRTIO_CONFIG_S_DRIVER) === 0
    ) {
      this.#o.violations.report(ViolationKind.featuresAfterFeaturesOk, {
        device: this.device.name,
        status: describeStatus(this.status),
      });
      return;
    }
    this.#driverFeatures = BigInt.asUintN(128, accepted);
  }

  /** A driver status write (§2.1, the table in device-status.ts). */
  async setStatus(requested: number): Promise<void> {
    const t = classifyStatusWrite(this.#status, requested);
    switch (t.kind) {
      case "reset":
        await this.reset();
        return;
      case "unchanged":
        return;
      case "failed":
        this.#status |= VIRTIO_CONFIG_S_FAILED;
        return;
      case "invalid":
        this.#o.violations.report(ViolationKind.invalidStatusTransition, {
          device: this.device.name,
          from: describeStatus(this.#status),
          to: describeStatus(requested),
        });
        return;
      case "step":
        break;
    }
    if (t.added === VIRTIO_CONFIG_S_FEATURES_OK) {
      const check = checkDriverFeatures(this.device.availableFeatures, this.#driverFeatures);
      const reason = check.ok ? this.device.validateFeatures?.(this.#driverFeatures) : check.reason;
      if (reason !== undefined) {
        // Leave FEATURES_OK clear: the driver's re-read (step 6) sees the rejection.
        this.stats.featureRejections++;
        return;
      }
    }
    if (t.added === VIRTIO_CONFIG_S_DRIVER_OK) {
      this.#status |= t.added;
      this.#activate();
      return;
    }
    this.#status |= t.added;
  }

  /**
   * Queue setup (QueueNum + addresses + QueueReady=1), allowed between FEATURES_OK and DRIVER_OK,
   * and on a live device for a queue that was reset (the re-enable of §2.6.1), which makes the
   * queue live at once.
   */
  setupQueue(index: number, size: number, binding: B): boolean {
    const inWindow =
      (this.#status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 &&
      (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) === 0;
    const reenable =
      (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 &&
      !this.#needsReset &&
      this.#resetQueues.has(index) &&
      this.device.state.kind === "activated";
    const max = this.queueMaxSize(index);
    const refuse = (reason?: string): false => {
      this.#o.violations.report(ViolationKind.queueSetupInvalid, {
        device: this.device.name,
        queue: index,
        size,
        max,
        status: describeStatus(this.status),
        ...(reason === undefined ? {} : { reason }),
      });
      return false;
    };
    if ((!inWindow && !reenable) || max === 0 || !isValidQueueSize(size) || size > max)
      return refuse();
    const setup = { index, size, binding };
    if (reenable) {
      try {
        const q = this.#o.createQueue(setup, this.#driverFeatures, {
          onBroken: (reason) => {
            this.#enterNeedsReset(reason);
          },
        });
        this.device.enableQueue(index, q);
      } catch (err) {
        return refuse(err instanceof Error ? err.message : String(err));
      }
      this.#resetQueues.delete(index);
      this.stats.queueReenables++;
    }
    this.#queues.set(index, setup);
    return true;
  }

  /**
   * Virtqueue reset (VirtIO 1.2 §2.6.1): refused unless the queue exists, VIRTIO_F_RING_RESET
   * was negotiated (FEATURES_OK set) and the device does not need a reset. On a live device
   * it resolves only once the model has quiesced the queue (no request of it in flight any
   * more; like status 0). The setup is forgotten either way.
   */
  async resetQueue(index: number): Promise<QueueResetResult> {
    const refuse = (refusal: QueueResetRefusal, reason: string): QueueResetResult => {
      this.#o.violations.report(ViolationKind.queueResetInvalid, {
        device: this.device.name,
        queue: index,
        refusal,
      });
      return { ok: false, refusal, reason };
    };
    const count = this.device.queueMaxSizes.length;
    if (!Number.isInteger(index) || index < 0 || index >= count)
      return refuse(
        QueueResetRefusal.noSuchQueue,
        `${this.device.name}: queue ${index} does not exist (the device has ${count} queues)`,
      );
    if (
      (this.#status & VIRTIO_CONFIG_S_FEATURES_OK) === 0 ||
      !hasFeature(this.#driverFeatures, VIRTIO_F_RING_RESET)
    )
      return refuse(
        QueueResetRefusal.notNegotiated,
        `${this.device.name}: queue ${index} cannot be reset: VIRTIO_F_RING_RESET not negotiated`,
      );
    if (this.#needsReset)
      return refuse(
        QueueResetRefusal.notReady,
        `${this.device.name}: queue ${index} cannot be reset: the device needs a reset`,
      );
    this.stats.queueResets++;
    this.#queues.delete(index);
    if ((this.#status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) {
      this.#resetQueues.add(index);
      if (this.device.state.kind === "activated") await this.device.resetQueue(index);
    }
    return { ok: true };
  }

  /** The setup of queue `index`, if the driver made one. */
  queueSetup(index: number): QueueSetup<B> | undefined {
    return this.#queues.get(index);
  }

  /**
   * A driver config write; with `generation`, refused (`ConfigSpaceError` kind
   * `staleGeneration`, nothing written) unless it is the current generation.
   */
  writeConfig(offset: number, bytes: Uint8Array, generation?: number): void {
    try {
      this.device.config.driverWrite(offset, bytes, generation);
    } catch (err) {
      if (err instanceof ConfigSpaceError && err.kind === ConfigSpaceErrorKind.staleGeneration)
        this.stats.staleConfigWrites++;
      throw err;
    }
  }

  /** An available-buffer notification from the driver: `recordKick` then `deliverKick`. */
  notify(index: number): void {
    this.recordKick(index);
    this.deliverKick(index);
  }

  /**
   * Counts one kick and watches for a flood. A transport that coalesces kicks calls this for
   * every kick it receives, and `deliverKick` once per coalesced batch.
   */
  recordKick(index: number): void {
    this.stats.kicks++;
    if (this.#kickGuard.hit()) {
      this.#o.violations.report(ViolationKind.notificationFlood, {
        device: this.device.name,
        queue: index,
      });
    }
  }

  /** Hands a kick to the device model, unless the device is not live (then it is counted). */
  deliverKick(index: number): void {
    if (
      (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) === 0 ||
      this.#needsReset ||
      this.device.state.kind !== "activated"
    ) {
      this.#o.violations.report(ViolationKind.notifyBeforeDriverOk, {
        device: this.device.name,
        queue: index,
      });
      return;
    }
    this.device.queueNotify(index);
  }

  /** Device reset: quiesce the model, then forget everything (status reads 0 afterwards). */
  async reset(): Promise<void> {
    this.stats.resets++;
    await this.device.reset();
    this.#status = 0;
    this.#needsReset = false;
    this.#driverFeatures = 0n;
    this.#queues.clear();
    this.#resetQueues.clear();
  }

  #activate(): void {
    const queues: (DeviceQueue | undefined)[] = [];
    try {
      for (const setup of this.#queues.values()) {
        queues[setup.index] = this.#o.createQueue(setup, this.#driverFeatures, {
          onBroken: (reason) => {
            this.#enterNeedsReset(reason);
          },
        });
      }
      this.device.activate({
        features: this.#driverFeatures,
        queues,
        interrupt: this.#interrupt,
        violations: this.#o.violations,
      });
      this.stats.activations++;
    } catch (err) {
      this.#o.violations.report(ViolationKind.queueSetupInvalid, {
        device: this.device.name,
        reason: err instanceof Error ? err.message : String(err),
      });
      this.#enterNeedsReset("activation failed");
    }
  }

  #enterNeedsReset(_reason: string): void {
    if (this.#needsReset) return;
    this.#needsReset = true;
    // Stop serving: the model must not touch its queues until the driver resets it.
    void this.device.reset();
    // §2.1.2: with DRIVER_OK set, DEVICE_NEEDS_RESET comes with a config change notification.
    if ((this.#status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.#o.onConfigChange();
  }
}
