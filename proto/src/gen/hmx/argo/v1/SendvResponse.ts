// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface SendvResponse {
  'ret'?: (number);
}

export interface SendvResponse__Output {
  'ret': (number);
}
