// SPDX-License-Identifier: Apache-2.0
/**
 * `LoopbackTransport`: a `VirtioTransport` that connects a driver to a device model in the same
 * process, through the driver's `GuestRam` — the device reads and writes the split ring in place
 * (`SplitQueue`), exactly as a device on shared memory would. This is the benchmark's "same
 * device model called in-process" baseline and what the end-to-end unit tests run on; the Argo
 * transport (part 2) replaces only this file's role, not the driver or the model.
 *
 * Notifications are asynchronous in both directions, as they are on hardware: a kick schedules
 * the device's queue run, a used-buffer notification schedules the driver's handler, each on a
 * microtask and coalesced per queue (many kicks before the device runs cause one run). That
 * keeps a driver's `add`/`kick` from re-entering itself through the device, and it is what makes
 * a notification flood harmless; `VirtioDeviceController` counts the flood.
 */
import { ConfigSpaceError, ConfigSpaceErrorKind } from "../config-space.js";
import { VirtioDeviceController } from "../device-controller.js";
import type { VirtioDevice } from "../device.js";
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, hasFeature } from "../features.js";
import type { DmaAllocator } from "../memory/dma-allocator.js";
import type { GuestRam } from "../memory/guest-ram.js";
import type { SplitRingAddresses } from "../queue/split-ring.js";
import { SplitQueue } from "../queue/split-queue.js";
import { ViolationKind, ViolationLog } from "../violation-log.js";
import { QueueResetError, StaleConfigGenerationError } from "./transport-errors.js";
import type { VirtioInterruptEvent, VirtioTransport } from "./transport.js";

export interface LoopbackTransportOptions {
  /** The driver's memory (shared in place with the device model). */
  readonly ram: GuestRam;
  /** Allocator for the driver's rings and buffers inside `ram`. */
  readonly dma: DmaAllocator;
  readonly device: VirtioDevice;
  /** Device-side violation counters (the device's view of a hostile driver). */
  readonly violations?: ViolationLog;
  /** Kicks per second above which a flood is reported. */
  readonly kickFloodLimit?: number;
}

/** In-process transport between a driver and a device model (see the module comment). */
export class LoopbackTransport implements VirtioTransport {
  readonly deviceType: number;
  readonly ram: GuestRam;
  readonly dma: DmaAllocator;
  readonly controller: VirtioDeviceController<SplitRingAddresses>;
  readonly violations: ViolationLog;
  readonly #handlers = new Set<(event: VirtioInterruptEvent) => void>();
  readonly #kickPending = new Set<number>();
  readonly #irqPending = new Set<number>();
  #configIrqPending = false;

  constructor(options: LoopbackTransportOptions) {
    this.ram = options.ram;
    this.dma = options.dma;
    this.deviceType = options.device.deviceType;
    this.violations = options.violations ?? new ViolationLog();
    this.controller = new VirtioDeviceController<SplitRingAddresses>({
      device: options.device,
      violations: this.violations,
      ...(options.kickFloodLimit !== undefined ? { kickFloodLimit: options.kickFloodLimit } : {}),
      onConfigChange: () => {
        this.#raiseConfig();
      },
      createQueue: (setup, features, hooks) =>
        SplitQueue.create(
          this.ram,
          {
            ...setup.binding,
            index: setup.index,
            size: setup.size,
            maxSize: this.controller.queueMaxSize(setup.index),
            eventIdx: hasFeature(features, VIRTIO_F_EVENT_IDX),
            indirect: hasFeature(features, VIRTIO_F_INDIRECT_DESC),
          },
          {
            violations: this.violations,
            interrupt: (q) => {
              this.#raiseQueue(q);
            },
            onBroken: (err) => {
              hooks.onBroken(err.message);
            },
          },
        ),
    });
  }

  getStatus(): Promise<number> {
    return Promise.resolve(this.controller.status);
  }

  setStatus(status: number): Promise<void> {
    return this.controller.setStatus(status);
  }

  getDeviceFeatures(): Promise<bigint> {
    return Promise.resolve(this.controller.deviceFeatures);
  }

  setDriverFeatures(features: bigint): Promise<void> {
    this.controller.setDriverFeatures(features);
    return Promise.resolve();
  }

  getConfigGeneration(): Promise<number> {
    return Promise.resolve(this.controller.config.generation);
  }

  readConfig(offset: number, len: number): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.controller.config.read(offset, len));
    } catch (err) {
      return Promise.reject(this.#configError(err, offset));
    }
  }

  writeConfig(offset: number, bytes: Uint8Array, generation?: number): Promise<void> {
    try {
      this.controller.writeConfig(offset, bytes, generation);
      return Promise.resolve();
    } catch (err) {
      if (
        err instanceof ConfigSpaceError &&
        err.kind === ConfigSpaceErrorKind.staleGeneration &&
        generation !== undefined
      )
        return Promise.reject(new StaleConfigGenerationError(offset, generation, { cause: err }));
      return Promise.reject(this.#configError(err, offset));
    }
  }

  getQueueMaxSize(index: number): Promise<number> {
    return Promise.resolve(this.controller.queueMaxSize(index));
  }

  setupQueue(index: number, size: number, addresses: SplitRingAddresses): Promise<void> {
    if (!this.controller.setupQueue(index, size, { ...addresses })) {
      return Promise.reject(new Error(`device refused setup of queue ${index} (size ${size})`));
    }
    return Promise.resolve();
  }

  async resetQueue(index: number): Promise<void> {
    const r = await this.controller.resetQueue(index);
    if (!r.ok) throw new QueueResetError(index, r.refusal, r.reason);
  }

  notify(index: number): Promise<void> {
    // Every kick is counted (a flood is a flood even if coalescing makes it cost nothing);
    // the device runs once per coalesced batch.
    this.controller.recordKick(index);
    if (!this.#kickPending.has(index)) {
      this.#kickPending.add(index);
      queueMicrotask(() => {
        this.#kickPending.delete(index);
        this.controller.deliverKick(index);
      });
    }
    return Promise.resolve();
  }

  onInterrupt(handler: (event: VirtioInterruptEvent) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  #raiseQueue(queue: number): void {
    if (this.#irqPending.has(queue)) return;
    this.#irqPending.add(queue);
    queueMicrotask(() => {
      this.#irqPending.delete(queue);
      this.#deliver({ kind: "usedBuffer", queue });
    });
  }

  #raiseConfig(): void {
    if (this.#configIrqPending) return;
    this.#configIrqPending = true;
    queueMicrotask(() => {
      this.#configIrqPending = false;
      this.#deliver({ kind: "configChange" });
    });
  }

  #deliver(event: VirtioInterruptEvent): void {
    for (const h of this.#handlers) h(event);
  }

  #configError(err: unknown, offset: number): Error {
    if (err instanceof ConfigSpaceError) {
      this.violations.report(
        err.kind === "outOfRange"
          ? ViolationKind.configAccessOutOfRange
          : ViolationKind.configWriteDenied,
        { device: this.controller.device.name, offset },
      );
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}
