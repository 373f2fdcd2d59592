// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface WriteMemoryRequest {
  'gpa'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

export interface WriteMemoryRequest__Output {
  'gpa': (string);
  'data': (Buffer);
}
