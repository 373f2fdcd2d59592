// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Virq as _hmx_argo_v1_Virq, Virq__Output as _hmx_argo_v1_Virq__Output } from '../../../hmx/argo/v1/Virq.js';

export interface Event {
  'virq'?: (_hmx_argo_v1_Virq | null);
  'kind'?: "virq";
}

export interface Event__Output {
  'virq'?: (_hmx_argo_v1_Virq__Output | null);
  'kind'?: "virq";
}
