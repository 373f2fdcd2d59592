// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface DestroyDomainRequest {
  'domid'?: (number);
}

export interface DestroyDomainRequest__Output {
  'domid': (number);
}
