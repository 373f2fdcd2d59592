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
 * - kicks before DRIVER_OK are ignored and counted; kick floods are detected and counted.
 *
 * `B` is the transport's per-queue binding: ring addresses for the loopback transport, the data
 * ring binding for Argo (which never sends guest addresses, §4.5 SET_VQUEUE).
 */
import type { ConfigSpace } from "./config-space.js";
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
import { checkDriverFeatures } from "./features.js";
import { FloodGuard } from "./flood-guard.js";
import type { DeviceQueue } from "./queue/device-queue.js";
import { isValidQueueSize } from "./queue/split-ring.js";
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
}

/** Device-side control plane for one device model (see the module comment). */
export class VirtioDeviceController<B> {
  readonly device: VirtioDevice;
  readonly stats: ControllerStats = { resets: 0, activations: 0, featureRejections: 0, kicks: 0 };
  readonly #o: VirtioDeviceControllerOptions<B>;
  /** Driver-owned status bits. */
  #status = 0;
  #needsReset = false;
  #driverFeatures = 0n;
  readonly #queues = new Map<number, QueueSetup<B>>();
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

  /** Queue setup (QueueNum + addresses + QueueReady=1), allowed between FEATURES_OK and DRIVER_OK. */
  setupQueue(index: number, size: number, binding: B): boolean {
    const inWindow =
      (this.#status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 &&
      (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) === 0;
    const max = this.queueMaxSize(index);
    if (!inWindow || max === 0 || !isValidQueueSize(size) || size > max) {
      this.#o.violations.report(ViolationKind.queueSetupInvalid, {
        device: this.device.name,
        queue: index,
        size,
        max,
        status: describeStatus(this.status),
      });
      return false;
    }
    this.#queues.set(index, { index, size, binding });
    return true;
  }

  /** The setup of queue `index`, if the driver made one. */
  queueSetup(index: number): QueueSetup<B> | undefined {
    return this.#queues.get(index);
  }

  /** A driver config write. */
  writeConfig(offset: number, bytes: Uint8Array): void {
    this.device.config.driverWrite(offset, bytes);
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
