// SPDX-License-Identifier: Apache-2.0
/**
 * One registered ring: the hypervisor-side `struct argo_ring_info` of argo.c. It holds the
 * pinned guest pages (resolved once at registration, so the send path never looks a gfn up),
 * the private `tx_ptr`, the ring length and the pending space waiters. All fields are touched
 * only from synchronous code: the event loop plays the role of the ring's L3 lock.
 */
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";

import type { Domain } from "../domain/domain.js";
import type { DomainArgoState } from "./domain-argo-state.js";
import type { PendingEnt } from "./pending.js";
import { ringIdString, ringKey } from "./ring-id.js";
import type { RingBuffer } from "./ring-buffer.js";

/** A registered ring (`struct argo_ring_info`). */
export class RingInfo implements RingBuffer {
  /** The domain whose memory holds the ring. */
  readonly owner: Domain;
  readonly aport: number;
  /** The only domain that may send here, or ARGO_DOMID_ANY for a wildcard ring. */
  readonly partnerId: number;
  /** `ringKey(aport, partnerId)`: the key in the owner's ring table. */
  readonly key: number;
  /**
   * Argo state of the partner, whose `partnerRings` (Xen's send_info hash) lists this ring so
   * that the partner's death can tear it down; null for a wildcard ring.
   */
  readonly partnerState: DomainArgoState | null;
  /** Ring data length in bytes (header excluded); 0 once the ring is torn down. */
  len: number;
  /** The pinned pages, in ring order; page 0 starts with the 64-byte `xen_argo_ring` header. */
  pages: readonly Buffer[];
  /** Xen's private copy of tx_ptr; the guest's copy is only ever written from it. */
  txPtr: number;
  /** Space waiters by waiting domid (at most one per domain, at most MAX_PENDING_PER_RING). */
  readonly pending = new Map<number, PendingEnt>();

  constructor(
    owner: Domain,
    aport: number,
    partnerId: number,
    partnerState: DomainArgoState | null,
    len: number,
    pages: readonly Buffer[],
    txPtr: number,
  ) {
    this.owner = owner;
    this.aport = aport;
    this.partnerId = partnerId;
    this.key = ringKey(aport, partnerId);
    this.partnerState = partnerState;
    this.len = len;
    this.pages = pages;
    this.txPtr = txPtr;
  }

  /** Whether any domain may send here (a "shared" ring in notify's flags). */
  get isWildcard(): boolean {
    return this.partnerId === ARGO_DOMID_ANY;
  }

  /** `vm<owner>:<aport> vm<partner>` for logs. */
  toString(): string {
    return ringIdString({
      domainId: this.owner.domid,
      aport: this.aport,
      partnerId: this.partnerId,
    });
  }
}
