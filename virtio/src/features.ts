// SPDX-License-Identifier: Apache-2.0
/**
 * Feature bits and feature negotiation, VirtIO 1.2 §2.2 "Feature Bits", §6 "Reserved Feature
 * Bits" and §3.1.1 steps 4–6 (virtio-argo.md §2.2, §2.3). Feature sets are `bigint` bitmaps
 * (bits go past 63); bit numbers keep the spec's names.
 *
 * Normative lines this file enforces:
 * - §2.2.1 "The driver MUST NOT accept a feature which the device did not offer" and "The device
 *   SHOULD accept any valid subset of features the driver accepts, otherwise it MUST fail to set
 *   the FEATURES_OK device status bit when the driver writes it."
 * - §6.1 "A driver MUST accept VIRTIO_F_VERSION_1 if it is offered. A device MUST offer
 *   VIRTIO_F_VERSION_1. A device MAY fail to operate further if VIRTIO_F_VERSION_1 is not
 *   accepted." hmx has no legacy interface, so its devices take that option: without
 *   VERSION_1, FEATURES_OK is refused; and its drivers refuse a device that does not offer it.
 */

export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_IN_ORDER = 35;
export const VIRTIO_F_ORDER_PLATFORM = 36;
export const VIRTIO_F_SR_IOV = 37;
export const VIRTIO_F_NOTIFICATION_DATA = 38;
export const VIRTIO_F_NOTIF_CONFIG_DATA = 39;
export const VIRTIO_F_RING_RESET = 40;

/** The bitmap with only `bit` set. */
export function featureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}

/** The bitmap of the given bits. */
export function features(...bits: readonly number[]): bigint {
  return bits.reduce((acc, b) => acc | featureBit(b), 0n);
}

/** True when `set` has `bit`. */
export function hasFeature(set: bigint, bit: number): boolean {
  return (set & featureBit(bit)) !== 0n;
}

/**
 * The transport features every hmx device offers (split ring; indirect; event index; per-queue
 * reset, VirtIO 1.2 §2.6.1 — the device side lives in `VirtioDeviceBase` and the controller, so
 * every model supports it).
 */
export const TRANSPORT_FEATURES = features(
  VIRTIO_F_VERSION_1,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_RING_RESET,
);

/** Outcome of checking a feature set. */
export type FeatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Device side, when the driver sets FEATURES_OK: may these features be accepted? */
export function checkDriverFeatures(offered: bigint, accepted: bigint): FeatureCheck {
  const unoffered = accepted & ~offered;
  if (unoffered !== 0n) {
    return {
      ok: false,
      reason: `driver accepted features not offered: 0x${unoffered.toString(16)}`,
    };
  }
  if (!hasFeature(accepted, VIRTIO_F_VERSION_1)) {
    return { ok: false, reason: "driver did not accept VIRTIO_F_VERSION_1" };
  }
  return { ok: true };
}

/** Driver side: the features to accept from what the device offers and what the driver supports. */
export function selectDriverFeatures(
  offered: bigint,
  supported: bigint,
):
  | { readonly ok: true; readonly features: bigint }
  | { readonly ok: false; readonly reason: string } {
  if (!hasFeature(offered, VIRTIO_F_VERSION_1)) {
    return {
      ok: false,
      reason: "device does not offer VIRTIO_F_VERSION_1 (legacy devices unsupported)",
    };
  }
  return { ok: true, features: offered & (supported | featureBit(VIRTIO_F_VERSION_1)) };
}
