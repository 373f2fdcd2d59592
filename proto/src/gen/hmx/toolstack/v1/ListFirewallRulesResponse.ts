// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FirewallRule as _hmx_toolstack_v1_FirewallRule, FirewallRule__Output as _hmx_toolstack_v1_FirewallRule__Output } from '../../../hmx/toolstack/v1/FirewallRule.js';
import type { FirewallVerdict as _hmx_toolstack_v1_FirewallVerdict, FirewallVerdict__Output as _hmx_toolstack_v1_FirewallVerdict__Output } from '../../../hmx/toolstack/v1/FirewallVerdict.js';
import type { Long } from '@grpc/proto-loader';

export interface ListFirewallRulesResponse {
  'rules'?: (_hmx_toolstack_v1_FirewallRule)[];
  'total'?: (number);
  'defaultVerdict'?: (_hmx_toolstack_v1_FirewallVerdict);
  /**
   * sendv calls decided by the default verdict.
   */
  'defaultHits'?: (number | string | Long);
}

export interface ListFirewallRulesResponse__Output {
  'rules': (_hmx_toolstack_v1_FirewallRule__Output)[];
  'total': (number);
  'defaultVerdict': (_hmx_toolstack_v1_FirewallVerdict__Output);
  /**
   * sendv calls decided by the default verdict.
   */
  'defaultHits': (string);
}
