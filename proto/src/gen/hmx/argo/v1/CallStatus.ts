// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


/**
 * A hypercall that produced no `ret`: quota, undecodable, skipped or forgotten. `code` is a gRPC
 * status code number (8 RESOURCE_EXHAUSTED, 3 INVALID_ARGUMENT, 10 ABORTED, 9
 * FAILED_PRECONDITION).
 */
export interface CallStatus {
  'code'?: (number);
  'message'?: (string);
}

/**
 * A hypercall that produced no `ret`: quota, undecodable, skipped or forgotten. `code` is a gRPC
 * status code number (8 RESOURCE_EXHAUSTED, 3 INVALID_ARGUMENT, 10 ABORTED, 9
 * FAILED_PRECONDITION).
 */
export interface CallStatus__Output {
  'code': (number);
  'message': (string);
}
