// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface FlushFirewallRequest {
}

export interface FlushFirewallRequest__Output {
}
