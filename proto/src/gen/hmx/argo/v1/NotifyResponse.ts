// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { RingDataResult as _hmx_argo_v1_RingDataResult, RingDataResult__Output as _hmx_argo_v1_RingDataResult__Output } from '../../../hmx/argo/v1/RingDataResult.js';

export interface NotifyResponse {
  'ret'?: (number);
  'entries'?: (_hmx_argo_v1_RingDataResult)[];
}

export interface NotifyResponse__Output {
  'ret': (number);
  'entries': (_hmx_argo_v1_RingDataResult__Output)[];
}
