// SPDX-License-Identifier: Apache-2.0
/**
 * Ring identity helpers: the Map key every ring lookup uses and the one formatter for logs,
 * `vm3:1000 vm5`, the same shape as Xen's `ring (vm%u:%x vm%u)` (owner:aport partner) in argo.c.
 */

/** A ring id: `(owner domid, aport, partner domid)` (`struct argo_ring_id`). */
export interface RingId {
  readonly domainId: number;
  readonly aport: number;
  readonly partnerId: number;
}

/**
 * The key of a ring within its owner's table: `aport * 0x10000 + partner`. aport < 2^32 and
 * partner < 2^16, so the key is below 2^48: an exact, collision-free double (no string built
 * per lookup).
 */
export function ringKey(aport: number, partnerId: number): number {
  return aport * 0x10000 + partnerId;
}

/** `vm<owner>:<aport in hex> vm<partner>`, as Xen prints a ring. */
export function ringIdString(id: RingId): string {
  return `vm${id.domainId}:${id.aport.toString(16)} vm${id.partnerId}`;
}
