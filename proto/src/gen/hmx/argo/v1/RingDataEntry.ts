// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { ArgoAddr as _hmx_argo_v1_ArgoAddr, ArgoAddr__Output as _hmx_argo_v1_ArgoAddr__Output } from '../../../hmx/argo/v1/ArgoAddr.js';

/**
 * xen_argo_ring_data_ent, input half.
 */
export interface RingDataEntry {
  'ring'?: (_hmx_argo_v1_ArgoAddr | null);
  'spaceRequired'?: (number);
}

/**
 * xen_argo_ring_data_ent, input half.
 */
export interface RingDataEntry__Output {
  'ring': (_hmx_argo_v1_ArgoAddr__Output | null);
  'spaceRequired': (number);
}
