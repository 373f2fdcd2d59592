// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { SessionOpen as _hmx_argo_v1_SessionOpen, SessionOpen__Output as _hmx_argo_v1_SessionOpen__Output } from '../../../hmx/argo/v1/SessionOpen.js';
import type { HypercallBatch as _hmx_argo_v1_HypercallBatch, HypercallBatch__Output as _hmx_argo_v1_HypercallBatch__Output } from '../../../hmx/argo/v1/HypercallBatch.js';

export interface SessionRequest {
  'open'?: (_hmx_argo_v1_SessionOpen | null);
  'batch'?: (_hmx_argo_v1_HypercallBatch | null);
  'kind'?: "open"|"batch";
}

export interface SessionRequest__Output {
  'open'?: (_hmx_argo_v1_SessionOpen__Output | null);
  'batch'?: (_hmx_argo_v1_HypercallBatch__Output | null);
  'kind'?: "open"|"batch";
}
