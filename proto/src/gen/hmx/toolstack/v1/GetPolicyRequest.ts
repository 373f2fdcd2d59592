// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface GetPolicyRequest {
}

export interface GetPolicyRequest__Output {
}
