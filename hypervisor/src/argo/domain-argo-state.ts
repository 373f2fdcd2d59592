// SPDX-License-Identifier: Apache-2.0
/**
 * A domain's Argo state, `struct argo_domain` in argo.c (`d->argo`): the rings it owns, the
 * rings of others it is the sole sender for (Xen's send_info hash, needed to tear them down
 * when it dies), and the wildcard rings it waits on (Xen's `wildcard_pend_list`, needed to
 * cancel those waits when it dies). The Xen hash tables become Maps keyed by cheap numbers.
 */
import type { RingInfo } from "./ring-info.js";

/** `struct argo_domain`. */
export class DomainArgoState {
  /** Rings owned by the domain, by `ringKey(aport, partnerId)` (Xen `ring_hash`). */
  readonly rings = new Map<number, RingInfo>();
  /**
   * Unicast rings (of any owner, the domain itself included) whose partner is this domain
   * (Xen `send_hash` of send_info records). Each ring is listed once, so re-registration
   * cannot duplicate it.
   */
  readonly partnerRings = new Set<RingInfo>();
  /** Wildcard rings of other domains on which this domain has a pending space waiter. */
  readonly wildcardPending = new Set<RingInfo>();

  /** Rings owned (`ring_count`): counted once per ring, re-registration included. */
  get ringCount(): number {
    return this.rings.size;
  }
}
