// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface WatchAuditRequest {
}

export interface WatchAuditRequest__Output {
}
