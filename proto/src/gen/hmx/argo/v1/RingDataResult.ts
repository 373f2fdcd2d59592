// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


/**
 * xen_argo_ring_data_ent, output half.
 */
export interface RingDataResult {
  'flags'?: (number);
  'maxMessageSize'?: (number);
}

/**
 * xen_argo_ring_data_ent, output half.
 */
export interface RingDataResult__Output {
  'flags': (number);
  'maxMessageSize': (number);
}
