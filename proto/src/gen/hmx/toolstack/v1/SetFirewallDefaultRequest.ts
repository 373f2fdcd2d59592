// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FirewallVerdict as _hmx_toolstack_v1_FirewallVerdict, FirewallVerdict__Output as _hmx_toolstack_v1_FirewallVerdict__Output } from '../../../hmx/toolstack/v1/FirewallVerdict.js';

export interface SetFirewallDefaultRequest {
  'verdict'?: (_hmx_toolstack_v1_FirewallVerdict);
}

export interface SetFirewallDefaultRequest__Output {
  'verdict': (_hmx_toolstack_v1_FirewallVerdict__Output);
}
