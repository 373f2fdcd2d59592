// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { SessionReady as _hmx_argo_v1_SessionReady, SessionReady__Output as _hmx_argo_v1_SessionReady__Output } from '../../../hmx/argo/v1/SessionReady.js';
import type { HypercallResults as _hmx_argo_v1_HypercallResults, HypercallResults__Output as _hmx_argo_v1_HypercallResults__Output } from '../../../hmx/argo/v1/HypercallResults.js';
import type { Event as _hmx_argo_v1_Event, Event__Output as _hmx_argo_v1_Event__Output } from '../../../hmx/argo/v1/Event.js';

export interface SessionResponse {
  'ready'?: (_hmx_argo_v1_SessionReady | null);
  'results'?: (_hmx_argo_v1_HypercallResults | null);
  'event'?: (_hmx_argo_v1_Event | null);
  'kind'?: "ready"|"results"|"event";
}

export interface SessionResponse__Output {
  'ready'?: (_hmx_argo_v1_SessionReady__Output | null);
  'results'?: (_hmx_argo_v1_HypercallResults__Output | null);
  'event'?: (_hmx_argo_v1_Event__Output | null);
  'kind'?: "ready"|"results"|"event";
}
