// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { Long } from '@grpc/proto-loader';

export interface AddFirewallRuleResponse {
  'position'?: (number);
  'id'?: (number | string | Long);
}

export interface AddFirewallRuleResponse__Output {
  'position': (number);
  'id': (string);
}
