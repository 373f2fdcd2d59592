// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FirewallMatch as _hmx_toolstack_v1_FirewallMatch, FirewallMatch__Output as _hmx_toolstack_v1_FirewallMatch__Output } from '../../../hmx/toolstack/v1/FirewallMatch.js';
import type { FirewallVerdict as _hmx_toolstack_v1_FirewallVerdict, FirewallVerdict__Output as _hmx_toolstack_v1_FirewallVerdict__Output } from '../../../hmx/toolstack/v1/FirewallVerdict.js';

export interface AddFirewallRuleRequest {
  'src'?: (_hmx_toolstack_v1_FirewallMatch | null);
  'dst'?: (_hmx_toolstack_v1_FirewallMatch | null);
  'verdict'?: (_hmx_toolstack_v1_FirewallVerdict);
  /**
   * 1-based; 0 (or past the end) appends.
   */
  'position'?: (number);
}

export interface AddFirewallRuleRequest__Output {
  'src': (_hmx_toolstack_v1_FirewallMatch__Output | null);
  'dst': (_hmx_toolstack_v1_FirewallMatch__Output | null);
  'verdict': (_hmx_toolstack_v1_FirewallVerdict__Output);
  /**
   * 1-based; 0 (or past the end) appends.
   */
  'position': (number);
}
