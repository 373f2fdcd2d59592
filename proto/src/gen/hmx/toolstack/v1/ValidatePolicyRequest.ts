// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface ValidatePolicyRequest {
  'source'?: (string);
  'fileName'?: (string);
}

export interface ValidatePolicyRequest__Output {
  'source': (string);
  'fileName': (string);
}
