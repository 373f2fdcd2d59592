// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface WriteMemoryResponse {
  'ret'?: (number);
}

export interface WriteMemoryResponse__Output {
  'ret': (number);
}
