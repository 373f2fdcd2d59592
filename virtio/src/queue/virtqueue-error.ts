// SPDX-License-Identifier: Apache-2.0
/**
 * `VirtQueueError`: every way a virtqueue operation can fail, as one typed error with a `kind`
 * (Firecracker's `QueueError`, rust-vmm's `virtio_queue::Error`). Kinds named after a
 * `ViolationKind` are peer misbehaviour — the spec rule broken is cited on each — and are also
 * counted by a `ViolationLog`; the rest are local conditions (a full queue, a bad setup).
 */
import { ViolationKind } from "../violation-log.js";

export const VirtQueueErrorKind = {
  // Device-side chain walking (VirtIO 1.2 §2.7.5, §2.7.5.3): a hostile or buggy driver.
  /** A descriptor's `next` leads back to a descriptor already in the chain. */
  descriptorLoop: ViolationKind.descriptorLoop,
  /** "A driver MUST NOT create a descriptor chain longer than the Queue Size of the device." */
  chainTooLong: ViolationKind.chainTooLong,
  /** A head or `next` index outside the descriptor (or indirect) table. */
  descIndexOutOfBounds: ViolationKind.descIndexOutOfBounds,
  /** A buffer (or indirect table) that is not inside guest memory. */
  bufferOutOfBounds: ViolationKind.bufferOutOfBounds,
  /** The chain's total length exceeds 2^32 - 1 (used.len is a le32). */
  chainLengthOverflow: ViolationKind.chainLengthOverflow,
  /** A device-readable descriptor after a device-writable one (§2.7.4.2). */
  readableAfterWritable: ViolationKind.readableAfterWritable,
  /** VIRTQ_DESC_F_INDIRECT without VIRTIO_F_INDIRECT_DESC negotiated (§2.7.5.3.1). */
  indirectNotNegotiated: ViolationKind.indirectNotNegotiated,
  /** "The driver MUST NOT set both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT in flags." */
  indirectWithNext: ViolationKind.indirectWithNext,
  /** "The driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag within an indirect descriptor." */
  nestedIndirect: ViolationKind.nestedIndirect,
  /** An indirect table whose length is zero or not a multiple of 16. */
  badIndirectTable: ViolationKind.badIndirectTable,
  /** avail.idx moved more than Queue Size past the device's next_avail (Firecracker InvalidAvailIdx). */
  invalidAvailIdx: ViolationKind.invalidAvailIdx,
  // Driver-side used-ring checks (Linux BAD_RING): a hostile or buggy device.
  /** used.ring[].id is not below Queue Size. */
  usedIdOutOfRange: ViolationKind.usedIdOutOfRange,
  /** used.ring[].id is not the head of a chain the driver made available (bogus or duplicate). */
  usedIdNotOutstanding: ViolationKind.usedIdNotOutstanding,
  /** used.ring[].len exceeds the chain's device-writable bytes (§2.7.8: never an overestimate). */
  usedLenTooLarge: ViolationKind.usedLenTooLarge,
  /** used.idx moved further than the number of outstanding chains. */
  invalidUsedIdx: ViolationKind.invalidUsedIdx,
  // Local conditions.
  /** Queue Size is not a power of two in [1, 32768], or exceeds the device maximum. */
  invalidQueueSize: "invalidQueueSize",
  /** A ring area is not inside guest memory. */
  ringOutOfBounds: "ringOutOfBounds",
  /** A ring area is not aligned as §2.7 requires. */
  ringMisaligned: "ringMisaligned",
  /** The queue was marked broken by an earlier violation; reset the device. */
  queueBroken: "queueBroken",
  /** Not enough free descriptors for the buffer. */
  queueFull: "queueFull",
  /** A buffer with no elements at all. */
  emptyBuffer: "emptyBuffer",
  /** A Reader or Writer ran past the end of the chain's readable or writable part. */
  bufferTooShort: "bufferTooShort",
} as const;
export type VirtQueueErrorKind = (typeof VirtQueueErrorKind)[keyof typeof VirtQueueErrorKind];

const violationKinds: ReadonlySet<string> = new Set(Object.values(ViolationKind));

/** True when the kind is peer misbehaviour that a `ViolationLog` counts. */
export function isViolation(kind: VirtQueueErrorKind): kind is VirtQueueErrorKind & ViolationKind {
  return violationKinds.has(kind);
}

/** A virtqueue operation failed; `kind` says why. */
export class VirtQueueError extends Error {
  override readonly name = "VirtQueueError";
  constructor(
    readonly kind: VirtQueueErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
