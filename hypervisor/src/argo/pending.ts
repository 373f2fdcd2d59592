// SPDX-License-Identifier: Apache-2.0
/**
 * Pending space notifications (argo-spec §5.4), mirroring argo.c `pending_requeue`,
 * `pending_queue`, `pending_cancel`, `pending_find` and `pending_remove_all`. A waiter is a
 * domain that hit a full ring (sendv -EAGAIN) or asked notify for space it did not get; it
 * fires, once, when the ring owner next calls notify and the space is there. There is at most
 * one waiter per (ring, domain), at most MAX_PENDING_PER_RING per ring, and a waiter on a
 * wildcard ring is also listed in the waiting domain's `wildcardPending` so that the
 * domain's death can cancel it.
 */
import { MAX_PENDING_PER_RING } from "@hmx/proto/abi";

import type { DomainArgoState } from "./domain-argo-state.js";
import type { RingInfo } from "./ring-info.js";

/** `struct pending_ent`: one domain waiting for `len` bytes of payload space on a ring. */
export interface PendingEnt {
  readonly domid: number;
  /** Payload bytes the domain waits for; only ever raised (max of old and new). */
  len: number;
  /** The waiter's Argo state, to unlink wildcard waits without a lookup. */
  readonly waiterState: DomainArgoState;
}

/**
 * `pending_requeue`: updates the domain's waiter to `max(old, len)` or queues a new one.
 * Returns false when a new waiter would exceed MAX_PENDING_PER_RING (the caller's -EBUSY or
 * EBUSY flag); nothing changes then.
 */
export function pendingRequeue(
  ring: RingInfo,
  domid: number,
  len: number,
  waiterState: DomainArgoState,
): boolean {
  const existing = ring.pending.get(domid);
  if (existing !== undefined) {
    if (existing.len < len) existing.len = len;
    return true;
  }
  if (ring.pending.size >= MAX_PENDING_PER_RING) return false;
  ring.pending.set(domid, { domid, len, waiterState });
  if (ring.isWildcard) waiterState.wildcardPending.add(ring);
  return true;
}

/** `pending_cancel`: drops the domain's waiter on the ring, if any, without a signal. */
export function pendingCancel(ring: RingInfo, domid: number): void {
  const ent = ring.pending.get(domid);
  if (ent === undefined) return;
  ring.pending.delete(domid);
  if (ring.isWildcard) ent.waiterState.wildcardPending.delete(ring);
}

/**
 * `pending_find`: removes every waiter whose `len <= space` and appends its domid to `fired`
 * (the caller raises the VIRQs once state is consistent). Wakes all eligible waiters even if
 * only one can then fit, as Xen does, so no waiter starves behind another.
 */
export function pendingFind(ring: RingInfo, space: number, fired: number[]): void {
  for (const ent of ring.pending.values()) {
    if (ent.len > space) continue;
    // Deleting the current entry while iterating a Map is well-defined: iteration continues.
    ring.pending.delete(ent.domid);
    if (ring.isWildcard) ent.waiterState.wildcardPending.delete(ring);
    fired.push(ent.domid);
  }
}

/** `pending_remove_all`: drops every waiter silently (unregister, teardown). */
export function pendingRemoveAll(ring: RingInfo): void {
  if (ring.isWildcard) {
    for (const ent of ring.pending.values()) ent.waiterState.wildcardPending.delete(ring);
  }
  ring.pending.clear();
}
