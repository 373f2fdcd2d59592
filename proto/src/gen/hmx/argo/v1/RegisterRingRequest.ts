// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface RegisterRingRequest {
  'aport'?: (number);
  'partnerId'?: (number);
  'len'?: (number);
  'gfns'?: (number | string | Long)[];
  'flags'?: (number);
}

export interface RegisterRingRequest__Output {
  'aport': (number);
  'partnerId': (number);
  'len': (number);
  'gfns': (string)[];
  'flags': (number);
}
