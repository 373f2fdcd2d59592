// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface ListFaultsRequest {
}

export interface ListFaultsRequest__Output {
}
