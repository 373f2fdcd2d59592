// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { VirqRingData as _hmx_argo_v1_VirqRingData, VirqRingData__Output as _hmx_argo_v1_VirqRingData__Output } from '../../../hmx/argo/v1/VirqRingData.js';

export interface Virq {
  /**
   * 11 = VIRQ_ARGO.
   */
  'virq'?: (number);
  /**
   * Only on a Session that asked for it (SessionOpen.virq_ring_bytes): one entry for every ring
   * of this domain whose rx_ptr differed from its tx_ptr when the event was delivered, with a
   * copy of its unread bytes while the budget lasts (then none), so that the guest need not
   * read them back in a round trip of its own. Each byte is carried once per Session: an entry
   * starts where the Session's previous entry for the ring stopped, or at rx_ptr when rx_ptr
   * has passed that point. A prefetch of the guest's own memory: the ring in guest memory stays
   * the truth, and a guest may ignore it (and then reads what it ignored).
   */
  'rings'?: (_hmx_argo_v1_VirqRingData)[];
}

export interface Virq__Output {
  /**
   * 11 = VIRQ_ARGO.
   */
  'virq': (number);
  /**
   * Only on a Session that asked for it (SessionOpen.virq_ring_bytes): one entry for every ring
   * of this domain whose rx_ptr differed from its tx_ptr when the event was delivered, with a
   * copy of its unread bytes while the budget lasts (then none), so that the guest need not
   * read them back in a round trip of its own. Each byte is carried once per Session: an entry
   * starts where the Session's previous entry for the ring stopped, or at rx_ptr when rx_ptr
   * has passed that point. A prefetch of the guest's own memory: the ring in guest memory stays
   * the truth, and a guest may ignore it (and then reads what it ignored).
   */
  'rings': (_hmx_argo_v1_VirqRingData__Output)[];
}
