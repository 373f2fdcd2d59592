// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { Long } from '@grpc/proto-loader';

export interface AuditCounter {
  'key'?: (string);
  'count'?: (number | string | Long);
}

export interface AuditCounter__Output {
  'key': (string);
  'count': (string);
}
