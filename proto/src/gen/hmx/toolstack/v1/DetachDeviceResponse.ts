// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface DetachDeviceResponse {
}

export interface DetachDeviceResponse__Output {
}
