// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FirewallMatch as _hmx_toolstack_v1_FirewallMatch, FirewallMatch__Output as _hmx_toolstack_v1_FirewallMatch__Output } from '../../../hmx/toolstack/v1/FirewallMatch.js';

export interface FirewallRulePattern {
  'src'?: (_hmx_toolstack_v1_FirewallMatch | null);
  'dst'?: (_hmx_toolstack_v1_FirewallMatch | null);
}

export interface FirewallRulePattern__Output {
  'src': (_hmx_toolstack_v1_FirewallMatch__Output | null);
  'dst': (_hmx_toolstack_v1_FirewallMatch__Output | null);
}
