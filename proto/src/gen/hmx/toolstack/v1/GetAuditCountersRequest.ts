// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface GetAuditCountersRequest {
}

export interface GetAuditCountersRequest__Output {
}
