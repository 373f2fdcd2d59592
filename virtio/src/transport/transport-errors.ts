// SPDX-License-Identifier: Apache-2.0
/**
 * The two refusals every `VirtioTransport` reports the same way, whatever carries it, so a
 * driver handles them without knowing the transport:
 *
 * - `StaleConfigGenerationError`: a config write that named a generation was refused because
 *   the device changed its config since (virtio-argo.md §4.5 SET_CONFIG "the BE rejects a stale
 *   generation"; over Argo the back end answers -EAGAIN). Nothing was written; the caller
 *   re-reads and decides again.
 * - `QueueResetError`: a virtqueue reset (VirtIO 1.2 §2.6.1, RESET_VQUEUE) was refused — the
 *   queue does not exist, VIRTIO_F_RING_RESET was not negotiated, or the device is not in a
 *   state where queues can be reset. The queue is left as it was.
 */

export class StaleConfigGenerationError extends Error {
  override readonly name = "StaleConfigGenerationError";
  constructor(
    readonly offset: number,
    readonly generation: number,
    options?: ErrorOptions,
  ) {
    super(`config write at offset ${offset} refused: generation ${generation} is stale`, options);
  }
}

/** Why a queue reset was refused. */
export const QueueResetRefusal = {
  /** No queue with that index (QueueNumMax would read 0). */
  noSuchQueue: "noSuchQueue",
  /** VIRTIO_F_RING_RESET was not negotiated. */
  notNegotiated: "notNegotiated",
  /** The device is not past FEATURES_OK, or needs a reset. */
  notReady: "notReady",
} as const;
export type QueueResetRefusal = (typeof QueueResetRefusal)[keyof typeof QueueResetRefusal];

export class QueueResetError extends Error {
  override readonly name = "QueueResetError";
  constructor(
    readonly queue: number,
    readonly refusal: QueueResetRefusal,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
