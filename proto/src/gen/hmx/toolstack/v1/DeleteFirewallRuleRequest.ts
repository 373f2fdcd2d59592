// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FirewallRulePattern as _hmx_toolstack_v1_FirewallRulePattern, FirewallRulePattern__Output as _hmx_toolstack_v1_FirewallRulePattern__Output } from '../../../hmx/toolstack/v1/FirewallRulePattern.js';

export interface DeleteFirewallRuleRequest {
  'position'?: (number);
  'rule'?: (_hmx_toolstack_v1_FirewallRulePattern | null);
  'target'?: "position"|"rule";
}

export interface DeleteFirewallRuleRequest__Output {
  'position'?: (number);
  'rule'?: (_hmx_toolstack_v1_FirewallRulePattern__Output | null);
  'target'?: "position"|"rule";
}
