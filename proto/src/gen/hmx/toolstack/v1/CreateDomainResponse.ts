// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface CreateDomainResponse {
  'domid'?: (number);
  'credential'?: (string);
}

export interface CreateDomainResponse__Output {
  'domid': (number);
  'credential': (string);
}
