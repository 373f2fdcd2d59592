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
   * copy of its unread bytes from rx_ptr while the budget lasts (then none), so that the guest
   * need not read them back in a round trip of its own. A prefetch of the guest's own memory:
   * the ring in guest memory stays the truth, and a guest may ignore it.
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
   * copy of its unread bytes from rx_ptr while the budget lasts (then none), so that the guest
   * need not read them back in a round trip of its own. A prefetch of the guest's own memory:
   * the ring in guest memory stays the truth, and a guest may ignore it.
   */
  'rings': (_hmx_argo_v1_VirqRingData__Output)[];
}
