// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface EnrolRequest {
  'instance'?: (string);
}

export interface EnrolRequest__Output {
  'instance': (string);
}
