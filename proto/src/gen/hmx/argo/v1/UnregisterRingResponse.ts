// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface UnregisterRingResponse {
  'ret'?: (number);
}

export interface UnregisterRingResponse__Output {
  'ret': (number);
}
