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
  /**
   * Run this batch only if the call with this request id was executed with `ret >= 0`; else
   * answer its calls ABORTED without running them (see Session: "Dependent batches"). 0: none.
   * A hypervisor that does not announce `SessionReady.dependent_batches` ignores it.
   */
  'after'?: (number | string | Long);
}

export interface HypercallBatch__Output {
  'calls': (_hmx_argo_v1_Hypercall__Output)[];
  'stopOnError': (boolean);
  /**
   * Acknowledges every result with request_id <= ack_through (0: no acknowledgement).
   */
  'ackThrough': (string);
  /**
   * Run this batch only if the call with this request id was executed with `ret >= 0`; else
   * answer its calls ABORTED without running them (see Session: "Dependent batches"). 0: none.
   * A hypervisor that does not announce `SessionReady.dependent_batches` ignores it.
   */
  'after': (string);
}
