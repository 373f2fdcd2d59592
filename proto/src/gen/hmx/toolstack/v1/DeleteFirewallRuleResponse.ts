// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FirewallRule as _hmx_toolstack_v1_FirewallRule, FirewallRule__Output as _hmx_toolstack_v1_FirewallRule__Output } from '../../../hmx/toolstack/v1/FirewallRule.js';

export interface DeleteFirewallRuleResponse {
  /**
   * The rule removed.
   */
  'removed'?: (_hmx_toolstack_v1_FirewallRule | null);
}

export interface DeleteFirewallRuleResponse__Output {
  /**
   * The rule removed.
   */
  'removed': (_hmx_toolstack_v1_FirewallRule__Output | null);
}
