// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface SessionOpen {
  /**
   * Results with request_id <= this may be dropped from the resume log.
   */
  'ackThrough'?: (number | string | Long);
}

export interface SessionOpen__Output {
  /**
   * Results with request_id <= this may be dropped from the resume log.
   */
  'ackThrough': (string);
}
