// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface UnregisterRingRequest {
  'aport'?: (number);
  'partnerId'?: (number);
}

export interface UnregisterRingRequest__Output {
  'aport': (number);
  'partnerId': (number);
}
