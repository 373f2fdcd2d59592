// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { HypercallResult as _hmx_argo_v1_HypercallResult, HypercallResult__Output as _hmx_argo_v1_HypercallResult__Output } from '../../../hmx/argo/v1/HypercallResult.js';

export interface HypercallResults {
  'results'?: (_hmx_argo_v1_HypercallResult)[];
}

export interface HypercallResults__Output {
  'results': (_hmx_argo_v1_HypercallResult__Output)[];
}
