// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface ReadMemoryRequest {
  /**
   * Guest-physical address (gfn = gpa >> 12).
   */
  'gpa'?: (number | string | Long);
  'length'?: (number);
}

export interface ReadMemoryRequest__Output {
  /**
   * Guest-physical address (gfn = gpa >> 12).
   */
  'gpa': (string);
  'length': (number);
}
