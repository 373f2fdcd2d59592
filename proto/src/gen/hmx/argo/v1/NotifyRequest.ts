// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { RingData as _hmx_argo_v1_RingData, RingData__Output as _hmx_argo_v1_RingData__Output } from '../../../hmx/argo/v1/RingData.js';

export interface NotifyRequest {
  'ringData'?: (_hmx_argo_v1_RingData | null);
  '_ringData'?: "ringData";
}

export interface NotifyRequest__Output {
  'ringData'?: (_hmx_argo_v1_RingData__Output | null);
  '_ringData'?: "ringData";
}
