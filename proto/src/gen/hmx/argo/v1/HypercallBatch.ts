// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Hypercall as _hmx_argo_v1_Hypercall, Hypercall__Output as _hmx_argo_v1_Hypercall__Output } from '../../../hmx/argo/v1/Hypercall.js';
import type { Long } from '@grpc/proto-loader';

export interface HypercallBatch {
  'calls'?: (_hmx_argo_v1_Hypercall)[];
  'stopOnError'?: (boolean);
  /**
   * Acknowledges every result with request_id <= ack_through (0: no acknowledgement).
   */
  'ackThrough'?: (number | string | Long);
}

export interface HypercallBatch__Output {
  'calls': (_hmx_argo_v1_Hypercall__Output)[];
  'stopOnError': (boolean);
  /**
   * Acknowledges every result with request_id <= ack_through (0: no acknowledgement).
   */
  'ackThrough': (string);
}
