// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface GetDomainInfoResponse {
  'domid'?: (number);
  'memoryBytes'?: (number | string | Long);
  'pageSize'?: (number);
  'label'?: (string);
}

export interface GetDomainInfoResponse__Output {
  'domid': (number);
  'memoryBytes': (string);
  'pageSize': (number);
  'label': (string);
}
