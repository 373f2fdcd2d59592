// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface SetFirewallDefaultResponse {
}

export interface SetFirewallDefaultResponse__Output {
}
