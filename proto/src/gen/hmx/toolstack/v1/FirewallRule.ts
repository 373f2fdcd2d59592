// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FirewallMatch as _hmx_toolstack_v1_FirewallMatch, FirewallMatch__Output as _hmx_toolstack_v1_FirewallMatch__Output } from '../../../hmx/toolstack/v1/FirewallMatch.js';
import type { FirewallVerdict as _hmx_toolstack_v1_FirewallVerdict, FirewallVerdict__Output as _hmx_toolstack_v1_FirewallVerdict__Output } from '../../../hmx/toolstack/v1/FirewallVerdict.js';
import type { Long } from '@grpc/proto-loader';

export interface FirewallRule {
  /**
   * 1-based position in the ordered list.
   */
  'position'?: (number);
  /**
   * Stable id, for counters; never reused.
   */
  'id'?: (number | string | Long);
  'src'?: (_hmx_toolstack_v1_FirewallMatch | null);
  'dst'?: (_hmx_toolstack_v1_FirewallMatch | null);
  'verdict'?: (_hmx_toolstack_v1_FirewallVerdict);
  /**
   * sendv calls this rule decided.
   */
  'hits'?: (number | string | Long);
  /**
   * viptables form, e.g. "-d client_t -q 9 -j REJECT".
   */
  'text'?: (string);
}

export interface FirewallRule__Output {
  /**
   * 1-based position in the ordered list.
   */
  'position': (number);
  /**
   * Stable id, for counters; never reused.
   */
  'id': (string);
  'src': (_hmx_toolstack_v1_FirewallMatch__Output | null);
  'dst': (_hmx_toolstack_v1_FirewallMatch__Output | null);
  'verdict': (_hmx_toolstack_v1_FirewallVerdict__Output);
  /**
   * sendv calls this rule decided.
   */
  'hits': (string);
  /**
   * viptables form, e.g. "-d client_t -q 9 -j REJECT".
   */
  'text': (string);
}
