// SPDX-License-Identifier: Apache-2.0
/**
 * The split virtqueue's memory layout, VirtIO 1.2 §2.7 ("Split Virtqueues"; virtio-argo.md §2.6),
 * with the spec's names (`virtio_ring.h` / `virtio-queue.h`). Every structure is little-endian
 * and lives in the driver's own memory:
 *
 * ```
 * Descriptor Table  align 16  16·qsz   struct virtq_desc  { le64 addr; le32 len; le16 flags; le16 next; }
 * Available Ring    align 2   6+2·qsz  struct virtq_avail { le16 flags; le16 idx; le16 ring[qsz]; le16 used_event; }
 * Used Ring         align 4   6+8·qsz  struct virtq_used  { le16 flags; le16 idx; struct virtq_used_elem { le32 id; le32 len; } ring[qsz]; le16 avail_event; }
 * ```
 *
 * `used_event` and `avail_event` are only meaningful with VIRTIO_F_EVENT_IDX (§2.7.7, §2.7.10).
 * Queue Size is a power of two no larger than 32768 (§2.7).
 */

/** This marks a buffer as continuing via the next field. */
export const VIRTQ_DESC_F_NEXT = 1;
/** This marks a buffer as device write-only (otherwise device read-only). */
export const VIRTQ_DESC_F_WRITE = 2;
/** This means the buffer contains a list of buffer descriptors. */
export const VIRTQ_DESC_F_INDIRECT = 4;

/** avail.flags: the driver does not want used-buffer notifications (interrupts). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** used.flags: the device does not want available-buffer notifications (kicks). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Largest Queue Size of a split virtqueue (§2.7: "Queue Size ... maximum 32768"). */
export const VIRTQ_MAX_SIZE = 32768;

/** `sizeof(struct virtq_desc)`. */
export const VIRTQ_DESC_SIZE = 16;
export const VIRTQ_DESC_ADDR_OFFSET = 0;
export const VIRTQ_DESC_LEN_OFFSET = 8;
export const VIRTQ_DESC_FLAGS_OFFSET = 12;
export const VIRTQ_DESC_NEXT_OFFSET = 14;

export const VIRTQ_AVAIL_FLAGS_OFFSET = 0;
export const VIRTQ_AVAIL_IDX_OFFSET = 2;
export const VIRTQ_AVAIL_RING_OFFSET = 4;

export const VIRTQ_USED_FLAGS_OFFSET = 0;
export const VIRTQ_USED_IDX_OFFSET = 2;
export const VIRTQ_USED_RING_OFFSET = 4;
/** `sizeof(struct virtq_used_elem)`. */
export const VIRTQ_USED_ELEM_SIZE = 8;

/** Alignment of each area (§2.7, "Virtqueue Part / Alignment"). */
export const VIRTQ_DESC_ALIGN = 16;
export const VIRTQ_AVAIL_ALIGN = 2;
export const VIRTQ_USED_ALIGN = 4;

/** Byte size of the descriptor table. */
export function descTableSize(qsz: number): number {
  return VIRTQ_DESC_SIZE * qsz;
}

/** Byte size of the available ring, `used_event` included. */
export function availRingSize(qsz: number): number {
  return 6 + 2 * qsz;
}

/** Byte size of the used ring, `avail_event` included. */
export function usedRingSize(qsz: number): number {
  return 6 + VIRTQ_USED_ELEM_SIZE * qsz;
}

/** Offset of `avail.ring[i]`. */
export function availRingEntryOffset(i: number): number {
  return VIRTQ_AVAIL_RING_OFFSET + 2 * i;
}

/** Offset of `used_event` in the available ring (`avail.ring[qsz]`). */
export function usedEventOffset(qsz: number): number {
  return VIRTQ_AVAIL_RING_OFFSET + 2 * qsz;
}

/** Offset of `used.ring[i]`. */
export function usedRingEntryOffset(i: number): number {
  return VIRTQ_USED_RING_OFFSET + VIRTQ_USED_ELEM_SIZE * i;
}

/** Offset of `avail_event` in the used ring (after `used.ring[qsz]`). */
export function availEventOffset(qsz: number): number {
  return VIRTQ_USED_RING_OFFSET + VIRTQ_USED_ELEM_SIZE * qsz;
}

/** True for a legal split Queue Size: a power of two in [1, 32768]. */
export function isValidQueueSize(qsz: number): boolean {
  return Number.isInteger(qsz) && qsz >= 1 && qsz <= VIRTQ_MAX_SIZE && (qsz & (qsz - 1)) === 0;
}

/** Where a split virtqueue's three areas are, in guest-physical addresses. */
export interface SplitRingAddresses {
  /** Descriptor Table ("descriptor area", QueueDesc). */
  readonly descAddr: number;
  /** Available Ring ("driver area", QueueDriver). */
  readonly availAddr: number;
  /** Used Ring ("device area", QueueDevice). */
  readonly usedAddr: number;
}

/** One `struct virtq_desc`, as read from memory (`addr` above 2^53 reads as an unsafe number). */
export interface Descriptor {
  readonly addr: number;
  readonly len: number;
  readonly flags: number;
  readonly next: number;
}

/**
 * Packs the three areas contiguously from `base` (each aligned as §2.7 requires) and returns
 * their addresses and the total span: the layout the driver-side helpers allocate.
 */
export function packSplitRing(base: number, qsz: number): SplitRingAddresses & { bytes: number } {
  const align = (n: number, a: number): number => Math.ceil(n / a) * a;
  const descAddr = align(base, VIRTQ_DESC_ALIGN);
  const availAddr = align(descAddr + descTableSize(qsz), VIRTQ_AVAIL_ALIGN);
  const usedAddr = align(availAddr + availRingSize(qsz), VIRTQ_USED_ALIGN);
  return { descAddr, availAddr, usedAddr, bytes: usedAddr + usedRingSize(qsz) - base };
}

/**
 * Where each field of one split virtqueue lies in guest memory (VirtIO 1.2 §2.7): the addresses
 * the device side (`SplitQueue`) and the driver side (`SplitQueueDriver`) both read and write,
 * computed in one place. Entry indexes wrap at the queue size.
 */
export interface SplitRingFields {
  readonly availFlags: number;
  readonly availIdx: number;
  /** `avail.ring[idx % size]`. */
  availEntry(idx: number): number;
  /** `used_event`, at the end of the available ring. */
  readonly usedEvent: number;
  readonly usedFlags: number;
  readonly usedIdx: number;
  /** `used.ring[idx % size]` (id, then len). */
  usedEntry(idx: number): number;
  /** `avail_event`, at the end of the used ring. */
  readonly availEvent: number;
}

/** The field addresses of the queue of `size` entries at `a`. */
export function splitRingFields(a: SplitRingAddresses, size: number): SplitRingFields {
  const { availAddr, usedAddr } = a;
  return {
    availFlags: availAddr + VIRTQ_AVAIL_FLAGS_OFFSET,
    availIdx: availAddr + VIRTQ_AVAIL_IDX_OFFSET,
    availEntry: (idx) => availAddr + availRingEntryOffset(idx % size),
    usedEvent: availAddr + usedEventOffset(size),
    usedFlags: usedAddr + VIRTQ_USED_FLAGS_OFFSET,
    usedIdx: usedAddr + VIRTQ_USED_IDX_OFFSET,
    usedEntry: (idx) => usedAddr + usedRingEntryOffset(idx % size),
    availEvent: usedAddr + availEventOffset(size),
  };
}
