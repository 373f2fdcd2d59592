// SPDX-License-Identifier: Apache-2.0
/**
 * `vringNeedEvent`: the VIRTIO_F_EVENT_IDX notification test, VirtIO 1.2 §2.7.10 / §2.7.7 and
 * `vring_need_event()` in the spec's `virtio-queue.h` (virtio-argo.md §2.6).
 *
 * A side that has moved its index from `oldIdx` to `newIdx` must notify the other side when the
 * other side's event index `eventIdx` lies in `[oldIdx, newIdx)` — i.e. the other side asked to
 * be told once the index passes `eventIdx`. All arithmetic is modulo 2^16, so the comparison
 * works across the u16 wrap:
 *
 * ```c
 * static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
 * { return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx); }
 * ```
 */

/** `vring_need_event(event_idx, new_idx, old_idx)` with u16 wrap-around. */
export function vringNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}
