// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface RegisterRingResponse {
  'ret'?: (number);
}

export interface RegisterRingResponse__Output {
  'ret': (number);
}
