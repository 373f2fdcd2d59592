// SPDX-License-Identifier: Apache-2.0
/**
 * The device status field and its state machine, VirtIO 1.2 §2.1 "Device Status Field" and §3.1
 * "Device Initialization" (virtio-argo.md §2.1, §2.3), as a table of valid transitions after
 * Firecracker's `VALID_TRANSITIONS` (`mmio.rs`). Normative lines (§2.1.1, §2.1.2, §3.1.1):
 *
 * - "The driver MUST update device status, setting bits to indicate the completed steps of the
 *   driver initialization sequence specified in 3.1. The driver MUST NOT clear a device status
 *   bit. If the driver sets the FAILED bit, the driver MUST later reset the device before
 *   attempting to re-initialize."
 * - "The device MUST initialize device status to 0 upon reset."
 * - "The device MUST NOT consume buffers or send any used buffer notifications to the driver
 *   before DRIVER_OK."
 * - "The device SHOULD set DEVICE_NEEDS_RESET when it enters an error state that a reset is
 *   needed. If DRIVER_OK is set, after it sets DEVICE_NEEDS_RESET, the device MUST send a device
 *   configuration change notification to the driver."
 * - Initialization: reset → ACKNOWLEDGE → DRIVER → (features) → FEATURES_OK → re-read →
 *   (device-specific setup) → DRIVER_OK; "If any of these steps go irrecoverably wrong, the
 *   driver SHOULD set the FAILED status bit".
 *
 * DEVICE_NEEDS_RESET belongs to the device: the bit the driver writes there is ignored, and the
 * table below is over the driver-owned bits only. A write that is not in the table is counted as
 * a violation and ignored (the status does not change), as Firecracker logs and ignores it.
 */

export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

/** Status bits the driver may write. */
export const DRIVER_STATUS_MASK = 0xff & ~VIRTIO_CONFIG_S_NEEDS_RESET;

const ACK = VIRTIO_CONFIG_S_ACKNOWLEDGE;
const DRV = VIRTIO_CONFIG_S_DRIVER;
const FOK = VIRTIO_CONFIG_S_FEATURES_OK;
const DOK = VIRTIO_CONFIG_S_DRIVER_OK;

/** The initialization sequence, one completed step at a time: [from, to]. */
export const VALID_TRANSITIONS: readonly (readonly [number, number])[] = [
  [0, ACK],
  [ACK, ACK | DRV],
  [ACK | DRV, ACK | DRV | FOK],
  [ACK | DRV | FOK, ACK | DRV | FOK | DOK],
];

/** What a driver's status write means. */
export type StatusTransition =
  /** Writing 0: reset the device. */
  | { readonly kind: "reset" }
  /** The next step of initialization. */
  | { readonly kind: "step"; readonly added: number }
  /** The driver gives up: FAILED added to the current bits. */
  | { readonly kind: "failed" }
  /** The same driver bits again: nothing changes. */
  | { readonly kind: "unchanged" }
  /** Anything else (clearing a bit, skipping a step): ignored and counted. */
  | { readonly kind: "invalid" };

/** Classifies a driver write of `requested` when the driver-owned bits are `current`. */
export function classifyStatusWrite(current: number, requested: number): StatusTransition {
  const cur = current & DRIVER_STATUS_MASK;
  const req = requested & DRIVER_STATUS_MASK;
  if (req === 0) return { kind: "reset" };
  if (req === cur) return { kind: "unchanged" };
  // FAILED may be added at any point of the sequence, and nothing may be cleared with it.
  if (req === (cur | VIRTIO_CONFIG_S_FAILED) && cur !== 0) return { kind: "failed" };
  for (const [from, to] of VALID_TRANSITIONS) {
    if (cur === from && req === to) return { kind: "step", added: to & ~from };
  }
  return { kind: "invalid" };
}

/** A readable rendering of a status byte, for logs. */
export function describeStatus(status: number): string {
  const names: [number, string][] = [
    [ACK, "ACKNOWLEDGE"],
    [DRV, "DRIVER"],
    [FOK, "FEATURES_OK"],
    [DOK, "DRIVER_OK"],
    [VIRTIO_CONFIG_S_NEEDS_RESET, "DEVICE_NEEDS_RESET"],
    [VIRTIO_CONFIG_S_FAILED, "FAILED"],
  ];
  const set = names.filter(([bit]) => (status & bit) !== 0).map(([, n]) => n);
  return set.length === 0 ? "0" : set.join("|");
}
