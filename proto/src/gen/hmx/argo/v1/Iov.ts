// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

/**
 * xen_argo_iov without its pad.
 */
export interface Iov {
  'gpa'?: (number | string | Long);
  'len'?: (number);
}

/**
 * xen_argo_iov without its pad.
 */
export interface Iov__Output {
  'gpa': (string);
  'len': (number);
}
