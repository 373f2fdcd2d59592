// SPDX-License-Identifier: Apache-2.0
/**
 * `VirtioTransport`: what a virtio driver needs from any transport, and nothing about how it is
 * carried — the operations of the virtio-mmio register file (VirtIO 1.2 §4.2.2; virtio-argo.md
 * §2.10) as asynchronous calls, Linux's `virtio_config_ops` in spirit. Drivers in `drivers/` are
 * written against this interface only; the loopback transport implements it in-process, and the
 * virtio-argo transport (part 2) will implement it with control messages over Argo (§4.5) — a
 * driver cannot tell them apart. Calls are async because over Argo each one is a request and a
 * response; the loopback transport resolves them at once.
 *
 * The driver's rings and buffers live in `ram`, the driver's own memory, and are allocated from
 * `dma`; `setupQueue` tells the transport where a queue's three areas are. A transport never
 * needs more than that to move a queue's contents: the loopback one lets the device read them
 * in place, the Argo one reads them at each `notify` and sends the chains' bytes (§4.6).
 */
import type { DmaAllocator } from "../memory/dma-allocator.js";
import type { GuestRam } from "../memory/guest-ram.js";
import type { SplitRingAddresses } from "../queue/split-ring.js";

/** A notification from the device to the driver (§2.3 "Notifications"). */
export type VirtioInterruptEvent =
  /** The device used buffers in queue `queue` (InterruptStatus bit 0). */
  | { readonly kind: "usedBuffer"; readonly queue: number }
  /** Configuration change, including DEVICE_NEEDS_RESET (InterruptStatus bit 1). */
  | { readonly kind: "configChange" };

/** The driver-facing side of a transport. */
export interface VirtioTransport {
  /** DeviceID (virtio-mmio 0x008): which driver binds. */
  readonly deviceType: number;
  /** The driver's own memory, where its rings and buffers live. */
  readonly ram: GuestRam;
  /** The allocator for rings and buffers inside `ram`. */
  readonly dma: DmaAllocator;

  /** Status (0x070) read. */
  getStatus(): Promise<number>;
  /** Status write; 0 resets, and resolves once the device reads back 0 (§2.1). */
  setStatus(status: number): Promise<void>;
  /** DeviceFeatures, all words. */
  getDeviceFeatures(): Promise<bigint>;
  /** DriverFeatures, all words. */
  setDriverFeatures(features: bigint): Promise<void>;
  /** ConfigGeneration (0x0fc). */
  getConfigGeneration(): Promise<number>;
  /** Device-specific config read (0x100+). */
  readConfig(offset: number, len: number): Promise<Uint8Array>;
  /**
   * Device-specific config write. With `generation` the write is conditional: if the device's
   * config generation is no longer `generation` it is refused with
   * `StaleConfigGenerationError` and nothing is written (a driver whose write depends on what
   * it read re-reads and retries). Without it, the write is unconditional, as a virtio-mmio
   * register write is.
   */
  writeConfig(offset: number, bytes: Uint8Array, generation?: number): Promise<void>;
  /** QueueNumMax for queue `index`; 0 means the queue does not exist. */
  getQueueMaxSize(index: number): Promise<number>;
  /**
   * QueueNum + QueueDesc/Driver/Device + QueueReady=1. Rejects if the device refuses the setup.
   * The driver has written and zeroed the areas before calling.
   */
  setupQueue(index: number, size: number, addresses: SplitRingAddresses): Promise<void>;
  /**
   * QueueReset (VirtIO 1.2 §2.6.1, needs VIRTIO_F_RING_RESET): the device stops using queue
   * `index`, waits until none of its requests is in flight, forgets the queue's state, and
   * only then does this resolve — afterwards the device never touches the old ring again, so
   * the driver may reclaim its buffers. Re-enabling is `setupQueue` again (any valid size).
   * Rejects with `QueueResetError` (naming the index) when the device refuses.
   */
  resetQueue(index: number): Promise<void>;
  /** QueueNotify: an available-buffer notification ("kick") for queue `index`. */
  notify(index: number): Promise<void>;
  /** Subscribes to device notifications; returns the unsubscribe function. */
  onInterrupt(handler: (event: VirtioInterruptEvent) => void): () => void;
}
