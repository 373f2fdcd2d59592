// SPDX-License-Identifier: Apache-2.0
/**
 * `DeviceQueue`: the device-side view of one virtqueue that every device model is written
 * against — the canonical processing loop of Firecracker's `process_queue` (pop → parse →
 * process → add_used → notify) and nothing else. Whatever carries the queue implements it:
 *
 * - `SplitQueue` reads a split ring in the driver's memory directly (the loopback transport,
 *   the in-process baseline, the device-model tests);
 * - the Argo device host (part 2) will rebuild chains from AVAIL records in its own memory
 *   (`DescriptorChain.fromSegments`) and turn `addUsed` into USED records (virtio-argo.md §4.6).
 *
 * So the same device model runs unchanged on either. Invalid chains never reach the model: the
 * queue validates each chain, counts and logs a violation, and completes the chain itself with
 * `used.len = 0` (the device error for that buffer); a ring-level violation breaks the queue and
 * asks the transport for a reset (DEVICE_NEEDS_RESET).
 */
import type { DescriptorChain } from "./descriptor-chain.js";

/** One device-side virtqueue as a device model drives it. */
export interface DeviceQueue {
  /** Virtqueue index within the device (e.g. virtio-net receiveq1 = 0, transmitq1 = 1). */
  readonly index: number;
  /** Queue Size negotiated for this queue. */
  readonly size: number;
  /** The next valid available chain, or undefined when there is none (or the queue is broken). */
  pop(): DescriptorChain | undefined;
  /**
   * Returns the buffer whose head is `head` to the driver, with `len` = bytes written into its
   * device-writable part (never more than it has; §2.7.8).
   */
  addUsed(head: number, len: number): void;
  /** Sends a used-buffer notification if the driver wants one since the last call (§2.7.10). */
  signalUsed(): void;
}
