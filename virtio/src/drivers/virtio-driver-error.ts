// SPDX-License-Identifier: Apache-2.0
/**
 * `VirtioDriverError`: why a front-end driver could not initialise or had to give up on its
 * device, as one typed error with a `kind` (the failure paths of VirtIO 1.2 §3.1.1 and the
 * "mark the device broken, set FAILED, and reset it" rule of virtio-argo.md §4.9).
 */

export const VirtioDriverErrorKind = {
  /** DeviceID is not the one this driver binds to. */
  wrongDeviceType: "wrongDeviceType",
  /** The device does not offer VIRTIO_F_VERSION_1 (§6.1; no legacy support). */
  noVersion1: "noVersion1",
  /** The device does not offer a feature the driver requires. */
  missingFeature: "missingFeature",
  /** FEATURES_OK was clear on the re-read (§3.1.1 step 6): the device refused the subset. */
  featuresRejected: "featuresRejected",
  /** A queue the driver needs does not exist (QueueNumMax 0) or was refused. */
  queueUnavailable: "queueUnavailable",
  /** The device refused a virtqueue reset (§2.6.1); the queue was left as it was. */
  queueResetRefused: "queueResetRefused",
  /** The device set DEVICE_NEEDS_RESET, or a queue broke on a device violation. */
  deviceFailed: "deviceFailed",
  /** The driver was reset or closed while the request was outstanding. */
  reset: "reset",
  /** A request-level error status from the device (e.g. VIRTIO_BLK_S_IOERR). */
  requestFailed: "requestFailed",
} as const;
export type VirtioDriverErrorKind =
  (typeof VirtioDriverErrorKind)[keyof typeof VirtioDriverErrorKind];

export class VirtioDriverError extends Error {
  override readonly name = "VirtioDriverError";
  constructor(
    readonly kind: VirtioDriverErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
