// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { ArgoAddr as _hmx_argo_v1_ArgoAddr, ArgoAddr__Output as _hmx_argo_v1_ArgoAddr__Output } from '../../../hmx/argo/v1/ArgoAddr.js';
import type { Iov as _hmx_argo_v1_Iov, Iov__Output as _hmx_argo_v1_Iov__Output } from '../../../hmx/argo/v1/Iov.js';

export interface SendvRequest {
  'src'?: (_hmx_argo_v1_ArgoAddr | null);
  'dst'?: (_hmx_argo_v1_ArgoAddr | null);
  'iovs'?: (_hmx_argo_v1_Iov)[];
  'messageType'?: (number);
}

export interface SendvRequest__Output {
  'src': (_hmx_argo_v1_ArgoAddr__Output | null);
  'dst': (_hmx_argo_v1_ArgoAddr__Output | null);
  'iovs': (_hmx_argo_v1_Iov__Output)[];
  'messageType': (number);
}
