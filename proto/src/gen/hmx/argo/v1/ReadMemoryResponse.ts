// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface ReadMemoryResponse {
  'ret'?: (number);
  'data'?: (Buffer | Uint8Array | string);
}

export interface ReadMemoryResponse__Output {
  'ret': (number);
  'data': (Buffer);
}
