// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface FlushFirewallResponse {
  'removed'?: (number);
}

export interface FlushFirewallResponse__Output {
  'removed': (number);
}
