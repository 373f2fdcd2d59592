// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface WatchFaultsRequest {
}

export interface WatchFaultsRequest__Output {
}
