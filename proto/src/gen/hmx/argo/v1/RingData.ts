// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { RingDataEntry as _hmx_argo_v1_RingDataEntry, RingDataEntry__Output as _hmx_argo_v1_RingDataEntry__Output } from '../../../hmx/argo/v1/RingDataEntry.js';

/**
 * xen_argo_ring_data; absent from NotifyRequest means Xen's NULL arg1.
 */
export interface RingData {
  'entries'?: (_hmx_argo_v1_RingDataEntry)[];
}

/**
 * xen_argo_ring_data; absent from NotifyRequest means Xen's NULL arg1.
 */
export interface RingData__Output {
  'entries': (_hmx_argo_v1_RingDataEntry__Output)[];
}
