// SPDX-License-Identifier: Apache-2.0
/**
 * The device-model contract: what every virtio device model (blk, net, console) is, whatever
 * transport hosts it — after Firecracker's `VirtioDevice` trait and `DeviceState` enum
 * (`device.rs`) and rust-vmm's `VirtioDeviceActions`. A model offers features, queue sizes and
 * a config space; once the driver sets DRIVER_OK it is *activated* with the negotiated features,
 * its `DeviceQueue`s and an interrupt line; on reset it quiesces and goes back to inactive.
 * The lifecycle is a type (`DeviceState`), never a boolean, and models never see a transport:
 * the loopback transport and the Argo device host drive the same object
 * (virtio-argo.md §4.1: the BE "runs device models").
 *
 * `VirtioDeviceBase` carries the shared mechanics: the state, in-flight request tracking so
 * `reset()` resolves only when nothing can touch a queue any more (§2.1.2 / §3.1: after a reset
 * the device "MUST NOT notify or touch the queues"), and an epoch so a completion that arrives
 * after a reset is dropped instead of writing into a ring the driver has reclaimed. The same
 * holds per queue for a virtqueue reset (VirtIO 1.2 §2.6.1, VIRTIO_F_RING_RESET): in-flight work
 * is tracked per queue and each queue has its own epoch, so `resetQueue(i)` resolves only once
 * queue i's requests have settled, their completions are dropped, and the other queues keep
 * running; `enableQueue(i, q)` puts a freshly set-up queue back.
 */
import { VIRTIO_ID_BLOCK, VIRTIO_ID_CONSOLE, VIRTIO_ID_NET } from "@hmx/proto/abi";
import type { ConfigSpace } from "./config-space.js";
import type { DeviceQueue } from "./queue/device-queue.js";
import { ViolationKind, type ViolationLog } from "./violation-log.js";
import type { DescriptorChain } from "./queue/descriptor-chain.js";

/** Virtio device IDs, VirtIO 1.2 §5 (virtio-argo.md §2.12). */
export const VirtioDeviceId = {
  net: VIRTIO_ID_NET,
  block: VIRTIO_ID_BLOCK,
  console: VIRTIO_ID_CONSOLE,
} as const;
export type VirtioDeviceId = (typeof VirtioDeviceId)[keyof typeof VirtioDeviceId];

/** The device's way to raise notifications that are not per-queue. */
export interface VirtioInterrupt {
  /** A configuration change notification (§2.5). */
  configChanged(): void;
  /** Enters DEVICE_NEEDS_RESET (and notifies the driver, §2.1.2). */
  needsReset(reason: string): void;
}

/** Everything a device gets when the driver sets DRIVER_OK (cloud-hypervisor `ActivationContext`). */
export interface ActivationContext {
  /** The negotiated features. */
  readonly features: bigint;
  /** One queue per index the driver set up; undefined where it did not. */
  readonly queues: readonly (DeviceQueue | undefined)[];
  readonly interrupt: VirtioInterrupt;
  /** Where the model reports its peer's violations (e.g. a malformed request). */
  readonly violations: ViolationLog;
}

/** The device lifecycle (Firecracker `DeviceState`). */
export type DeviceState =
  | { readonly kind: "inactive" }
  | { readonly kind: "activated"; readonly context: ActivationContext; readonly epoch: number };

/** A device model. */
export interface VirtioDevice {
  readonly deviceType: VirtioDeviceId;
  /** A name for logs, e.g. "blk0". */
  readonly name: string;
  /** Features offered (device-type bits plus transport bits). */
  readonly availableFeatures: bigint;
  /** QueueNumMax per queue index; the number of queues is its length. */
  readonly queueMaxSizes: readonly number[];
  readonly config: ConfigSpace;
  readonly state: DeviceState;
  /** Device-type feature rules (dependencies), checked at FEATURES_OK; a reason to refuse. */
  validateFeatures?(features: bigint): string | undefined;
  /** DRIVER_OK: start serving. Throws `ActivateError` if the setup cannot work. */
  activate(context: ActivationContext): void;
  /** An available-buffer notification for queue `index`. */
  queueNotify(index: number): void;
  /** Device reset: stop, wait for in-flight work, forget the queues. */
  reset(): Promise<void>;
  /**
   * Virtqueue reset (§2.6.1): stop processing queue `index`, wait until none of its requests is
   * in flight (their completions are dropped), forget the queue. The other queues keep going.
   */
  resetQueue(index: number): Promise<void>;
  /** Re-enables queue `index` after `resetQueue` with a newly set-up queue (device active). */
  enableQueue(index: number, queue: DeviceQueue): void;
}

/** A device refused to activate (e.g. a required queue was not set up). */
export class ActivateError extends Error {
  override readonly name = "ActivateError";
}

/** Shared lifecycle mechanics for device models (see the module comment). */
export abstract class VirtioDeviceBase implements VirtioDevice {
  abstract readonly deviceType: VirtioDeviceId;
  abstract readonly name: string;
  abstract readonly availableFeatures: bigint;
  abstract readonly queueMaxSizes: readonly number[];
  abstract readonly config: ConfigSpace;

  #state: DeviceState = { kind: "inactive" };
  #epoch = 0;
  /** In-flight work → the queue it belongs to. */
  readonly #inflight = new Map<Promise<unknown>, number>();
  /** The live queues (the activation's, minus reset ones, plus re-enabled ones). */
  #queues: (DeviceQueue | undefined)[] = [];
  /** Per-queue epochs, bumped by `resetQueue`. */
  readonly #queueEpochs = new Map<number, number>();

  get state(): DeviceState {
    return this.#state;
  }

  activate(context: ActivationContext): void {
    if (this.#state.kind === "activated")
      throw new ActivateError(`${this.name}: already activated`);
    this.onActivate(context);
    this.#queues = [...context.queues];
    this.#state = { kind: "activated", context, epoch: ++this.#epoch };
    // Buffers may already be waiting (rx buffers posted before DRIVER_OK are legal to add).
    context.queues.forEach((q, i) => {
      if (q !== undefined) this.queueNotify(i);
    });
  }

  async reset(): Promise<void> {
    this.#state = { kind: "inactive" };
    this.#epoch++;
    this.#queues = [];
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight.keys()]);
    this.onReset();
  }

  async resetQueue(index: number): Promise<void> {
    this.#queues[index] = undefined;
    this.#queueEpochs.set(index, this.#queueEpoch(index) + 1);
    // Bounded: nothing new starts on a queue that is gone, so the set only shrinks.
    for (;;) {
      const mine = [...this.#inflight].filter(([, q]) => q === index).map(([p]) => p);
      if (mine.length === 0) break;
      await Promise.allSettled(mine);
    }
    this.onQueueReset(index);
  }

  enableQueue(index: number, queue: DeviceQueue): void {
    if (this.#state.kind !== "activated")
      throw new ActivateError(`${this.name}: queue ${index} enabled on an inactive device`);
    if (!Number.isInteger(index) || index < 0 || index >= this.queueMaxSizes.length)
      throw new ActivateError(`${this.name}: queue ${index} does not exist`);
    this.#queues[index] = queue;
    // Buffers may already be waiting in the new ring.
    this.queueNotify(index);
  }

  abstract queueNotify(index: number): void;

  /** Checks the setup before activation (throw `ActivateError`). */
  protected onActivate(_context: ActivationContext): void {
    // Default: nothing to check.
  }

  /** Drops device-side state after a reset (backlogs, partial requests). */
  protected onReset(): void {
    // Default: nothing to drop.
  }

  /** Drops the state of queue `index` after its virtqueue reset (e.g. frames waiting for it). */
  protected onQueueReset(_index: number): void {
    // Default: nothing to drop.
  }

  /** The active context, or undefined when inactive. */
  protected get active(): ActivationContext | undefined {
    return this.#state.kind === "activated" ? this.#state.context : undefined;
  }

  /** The queue at `index` if the device is active and the driver set it up. */
  protected queue(index: number): DeviceQueue | undefined {
    return this.active === undefined ? undefined : this.#queues[index];
  }

  /**
   * Completes every available chain of a driver-to-device queue (console and net transmit):
   * such buffers are device-readable only, so a chain with device-writable segments is a
   * violation and is returned untouched; every other chain goes to `handle`. Each chain is
   * returned with 0 bytes written, and the driver is signalled once for the lot.
   */
  protected drainTransmitQueue(
    index: number,
    handle: (chain: DescriptorChain, context: ActivationContext) => void,
  ): void {
    const q = this.queue(index);
    const ctx = this.active;
    if (q === undefined || ctx === undefined) return;
    let any = false;
    for (let chain = q.pop(); chain !== undefined; chain = q.pop()) {
      any = true;
      if (chain.writableBytes > 0) {
        ctx.violations.report(ViolationKind.readableRequired, {
          device: this.name,
          queue: index,
          head: chain.head,
        });
      } else {
        handle(chain, ctx);
      }
      q.addUsed(chain.head, 0);
    }
    if (any) q.signalUsed();
  }

  /**
   * Fills the posted buffers of a device-to-driver queue (console and net receive) while
   * `pending()` says there is something to deliver: such buffers are device-writable only, so a
   * chain with device-readable segments is a violation and is returned with 0 bytes; every other
   * chain goes to `fill`, which writes into it and returns the bytes written. The driver is
   * signalled once for the lot.
   */
  protected fillReceiveQueue(
    index: number,
    pending: () => boolean,
    fill: (chain: DescriptorChain, context: ActivationContext) => number,
  ): void {
    const q = this.queue(index);
    const ctx = this.active;
    if (q === undefined || ctx === undefined) return;
    let any = false;
    while (pending()) {
      const chain = q.pop();
      if (chain === undefined) break;
      any = true;
      if (chain.readableBytes > 0) {
        ctx.violations.report(ViolationKind.writableRequired, {
          device: this.name,
          queue: index,
          head: chain.head,
        });
        q.addUsed(chain.head, 0);
      } else {
        q.addUsed(chain.head, fill(chain, ctx));
      }
    }
    if (any) q.signalUsed();
  }

  /**
   * Runs async work of queue `queue` for the current activation. `complete` runs only if
   * neither the device nor that queue was reset meanwhile, so late completions never touch a
   * reclaimed ring; `reset()` and `resetQueue(queue)` wait for `work`.
   */
  protected track<T>(
    queue: number,
    work: Promise<T>,
    complete: (value: T) => void,
    failed: (err: unknown) => void,
  ): void {
    const epoch = this.#epoch;
    const queueEpoch = this.#queueEpoch(queue);
    const current = (): boolean =>
      epoch === this.#epoch &&
      queueEpoch === this.#queueEpoch(queue) &&
      this.#state.kind === "activated";
    const p: Promise<void> = work
      .then((v) => {
        if (current()) complete(v);
      })
      .catch((err: unknown) => {
        if (current()) failed(err);
      })
      .finally(() => {
        this.#inflight.delete(p);
      });
    this.#inflight.set(p, queue);
  }

  #queueEpoch(index: number): number {
    return this.#queueEpochs.get(index) ?? 0;
  }

  /** Requests currently in flight. */
  protected get inflightCount(): number {
    return this.#inflight.size;
  }
}
