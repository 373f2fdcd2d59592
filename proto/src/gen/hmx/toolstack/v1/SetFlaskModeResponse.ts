// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface SetFlaskModeResponse {
}

export interface SetFlaskModeResponse__Output {
}
