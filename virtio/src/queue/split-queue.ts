// SPDX-License-Identifier: Apache-2.0
/**
 * `SplitQueue`: the device side of a split virtqueue in the driver's memory, VirtIO 1.2 §2.7
 * (virtio-argo.md §2.6, §2.7), after Firecracker's `Queue` (`queue.rs`): `nextAvail` /
 * `nextUsed` cursors, `pop`, `addUsed`, and the used-buffer notification decision honouring
 * `avail.flags` (VIRTQ_AVAIL_F_NO_INTERRUPT) or, with VIRTIO_F_EVENT_IDX, `used_event` through
 * `vring_need_event`. It implements `DeviceQueue`, so device models cannot tell it from the
 * Argo device host's queue.
 *
 * Hardening (virtio-argo.md §4.9, hostile driver):
 * - `create` validates the setup (size a power of two ≤ the device maximum, each area inside
 *   guest memory and aligned) and throws `VirtQueueError` — the transport refuses the queue.
 * - `avail.idx` more than Queue Size ahead of `nextAvail` is a ring-level violation
 *   (`invalidAvailIdx`): the queue is broken, stops popping, and `onBroken` asks for a reset
 *   (Firecracker treats this as fatal so as not to clog the log by retrying).
 * - A chain that breaks a descriptor rule is counted, logged (rate-limited), and completed with
 *   `used.len = 0`; popping continues with the next chain.
 * - `avail.idx` is read once per pop batch and each `avail.ring` entry once (no double fetch).
 */
import type { GuestRam } from "../memory/guest-ram.js";
import type { ViolationLog } from "../violation-log.js";
import { DescriptorChain } from "./descriptor-chain.js";
import type { DeviceQueue } from "./device-queue.js";
import { vringNeedEvent } from "./need-event.js";
import {
  VIRTQ_AVAIL_ALIGN,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_ALIGN,
  VIRTQ_USED_ALIGN,
  VIRTQ_USED_F_NO_NOTIFY,
  availRingSize,
  descTableSize,
  isValidQueueSize,
  usedRingSize,
  splitRingFields,
  type SplitRingAddresses,
  type SplitRingFields,
} from "./split-ring.js";
import { VirtQueueError, VirtQueueErrorKind, isViolation } from "./virtqueue-error.js";

/** What the driver set up for one queue (QueueNum, QueueDesc/Driver/Device, features). */
export interface SplitQueueConfig extends SplitRingAddresses {
  readonly index: number;
  readonly size: number;
  /** The device's QueueNumMax for this queue. */
  readonly maxSize: number;
  /** VIRTIO_F_EVENT_IDX negotiated. */
  readonly eventIdx: boolean;
  /** VIRTIO_F_INDIRECT_DESC negotiated. */
  readonly indirect: boolean;
}

export interface SplitQueueHooks {
  /** Raises a used-buffer notification (the transport's interrupt) for this queue. */
  readonly interrupt: (queueIndex: number) => void;
  /** Counts and logs peer violations. */
  readonly violations: ViolationLog;
  /** Called once when a ring-level violation breaks the queue: the device needs a reset. */
  readonly onBroken: (error: VirtQueueError) => void;
}

/** Checks a queue setup against §2.7; throws `VirtQueueError` describing the first problem. */
export function validateSplitQueueConfig(ram: GuestRam, c: SplitQueueConfig): void {
  if (!isValidQueueSize(c.size) || c.size > c.maxSize) {
    throw new VirtQueueError(
      VirtQueueErrorKind.invalidQueueSize,
      `queue ${c.index}: size ${c.size} is not a power of two in [1, ${c.maxSize}]`,
    );
  }
  const areas = [
    ["descriptor table", c.descAddr, descTableSize(c.size), VIRTQ_DESC_ALIGN],
    ["available ring", c.availAddr, availRingSize(c.size), VIRTQ_AVAIL_ALIGN],
    ["used ring", c.usedAddr, usedRingSize(c.size), VIRTQ_USED_ALIGN],
  ] as const;
  for (const [name, addr, len, align] of areas) {
    if (!ram.contains(addr, len)) {
      throw new VirtQueueError(
        VirtQueueErrorKind.ringOutOfBounds,
        `queue ${c.index}: ${name} outside guest memory`,
      );
    }
    if (addr % align !== 0) {
      throw new VirtQueueError(
        VirtQueueErrorKind.ringMisaligned,
        `queue ${c.index}: ${name} not ${align}-aligned`,
      );
    }
  }
}

/** Device side of one split virtqueue (see the module comment). */
export class SplitQueue implements DeviceQueue {
  readonly index: number;
  readonly size: number;
  readonly config: SplitQueueConfig;
  /** Where the ring's fields are. */
  readonly #at: SplitRingFields;
  readonly #ram: GuestRam;
  readonly #hooks: SplitQueueHooks;
  /** Next avail.ring slot the device will read (free-running u16). */
  #nextAvail = 0;
  /** Next used.ring slot the device will write (free-running u16). */
  #nextUsed = 0;
  /** used.idx when the driver was last notified (the `old` of vring_need_event). */
  #signalledUsed = 0;
  /** Cached avail.idx, re-read only when the device catches up with it. */
  #availIdx = 0;
  #broken: VirtQueueError | undefined;

  private constructor(ram: GuestRam, config: SplitQueueConfig, hooks: SplitQueueHooks) {
    this.#ram = ram;
    this.config = config;
    this.#at = splitRingFields(config, config.size);
    this.index = config.index;
    this.size = config.size;
    this.#hooks = hooks;
  }

  /** Validates the setup (throws `VirtQueueError`) and returns the queue. */
  static create(ram: GuestRam, config: SplitQueueConfig, hooks: SplitQueueHooks): SplitQueue {
    validateSplitQueueConfig(ram, config);
    return new SplitQueue(ram, config, hooks);
  }

  get nextAvail(): number {
    return this.#nextAvail;
  }
  get nextUsed(): number {
    return this.#nextUsed;
  }
  /** The violation that broke the queue, if one did. */
  get broken(): VirtQueueError | undefined {
    return this.#broken;
  }

  /** Chains the driver has made available that the device has not popped yet. */
  pending(): number {
    if (this.#broken !== undefined) return 0;
    this.#availIdx = this.#ram.readU16(this.#at.availIdx);
    const n = (this.#availIdx - this.#nextAvail) & 0xffff;
    if (n > this.size) {
      this.#break(
        new VirtQueueError(
          VirtQueueErrorKind.invalidAvailIdx,
          `queue ${this.index}: avail.idx ${this.#availIdx} is ${n} ahead of next_avail ${this.#nextAvail}`,
        ),
      );
      return 0;
    }
    return n;
  }

  pop(): DescriptorChain | undefined {
    for (;;) {
      if (this.#broken !== undefined) return undefined;
      if (this.#nextAvail === this.#availIdx && this.pending() === 0) return undefined;
      const slot = this.#nextAvail % this.size;
      const head = this.#ram.readU16(this.#at.availEntry(slot));
      this.#nextAvail = (this.#nextAvail + 1) & 0xffff;
      if (this.config.eventIdx) {
        // Ask for a kick as soon as the driver publishes past what we have consumed.
        this.#ram.writeU16(this.#at.availEvent, this.#nextAvail);
      }
      try {
        return DescriptorChain.checked(this.#ram, {
          descTable: this.config.descAddr,
          queueSize: this.size,
          head,
          indirect: this.config.indirect,
        });
      } catch (err) {
        if (!(err instanceof VirtQueueError) || !isViolation(err.kind)) throw err;
        this.#hooks.violations.report(err.kind, { queue: this.index, head, side: "device" });
        // The device error for a malformed buffer: hand it back with nothing written. A head
        // outside the table cannot be named in used.ring, so it is dropped (already counted).
        if (head < this.size) this.addUsed(head, 0);
      }
    }
  }

  /** Puts `{head, len}` in the used ring, then publishes used.idx (len before idx, §2.7.8). */
  addUsed(head: number, len: number): void {
    if (this.#broken !== undefined) return;
    if (
      !Number.isInteger(head) ||
      head < 0 ||
      head >= this.size ||
      !Number.isInteger(len) ||
      len < 0 ||
      len > 0xffff_ffff
    ) {
      // Our own bug, not the driver's: refuse loudly rather than corrupt the driver's ring.
      throw new RangeError(`queue ${this.index}: addUsed(${head}, ${len}) out of range`);
    }
    const at = this.#at.usedEntry(this.#nextUsed);
    this.#ram.writeU32(at, head);
    this.#ram.writeU32(at + 4, len);
    this.#nextUsed = (this.#nextUsed + 1) & 0xffff;
    this.#ram.writeU16(this.#at.usedIdx, this.#nextUsed);
  }

  /** §2.7.10 / §2.7.7: does the driver want a used-buffer notification now? */
  needsNotification(): boolean {
    const oldIdx = this.#signalledUsed;
    const newIdx = this.#nextUsed;
    if (oldIdx === newIdx) return false;
    if (this.config.eventIdx) {
      const usedEvent = this.#ram.readU16(this.#at.usedEvent);
      return vringNeedEvent(usedEvent, newIdx, oldIdx);
    }
    const flags = this.#ram.readU16(this.#at.availFlags);
    return (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  signalUsed(): void {
    if (this.#broken !== undefined) return;
    const notify = this.needsNotification();
    // Either way the driver has now been told (or declined to be told) about these entries.
    this.#signalledUsed = this.#nextUsed;
    if (notify) this.#hooks.interrupt(this.index);
  }

  /** Asks the driver not to kick (used.flags = NO_NOTIFY; no-op with EVENT_IDX). */
  disableNotification(): void {
    if (!this.config.eventIdx) {
      this.#ram.writeU16(this.#at.usedFlags, VIRTQ_USED_F_NO_NOTIFY);
    }
  }

  /**
   * Asks the driver to kick again; returns true if chains arrived meanwhile, so the caller
   * re-polls instead of sleeping through them (the classic enable-then-recheck race).
   */
  enableNotification(): boolean {
    if (this.config.eventIdx) {
      this.#ram.writeU16(this.#at.availEvent, this.#nextAvail);
    } else {
      this.#ram.writeU16(this.#at.usedFlags, 0);
    }
    return this.pending() > 0;
  }

  #break(error: VirtQueueError): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    if (isViolation(error.kind)) {
      this.#hooks.violations.report(error.kind, { queue: this.index, side: "device" });
    }
    this.#hooks.onBroken(error);
  }
}
