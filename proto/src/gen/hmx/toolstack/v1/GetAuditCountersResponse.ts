// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { AuditCounter as _hmx_toolstack_v1_AuditCounter, AuditCounter__Output as _hmx_toolstack_v1_AuditCounter__Output } from '../../../hmx/toolstack/v1/AuditCounter.js';
import type { Long } from '@grpc/proto-loader';

export interface GetAuditCountersResponse {
  'denials'?: (number | string | Long);
  /**
   * Keys like "flask:send", "silo:register_single_source", "firewall:send".
   */
  'byPermission'?: (_hmx_toolstack_v1_AuditCounter)[];
  /**
   * Keys like "firewall#3" (rule id) or "flask:no-allow-rule".
   */
  'byRule'?: (_hmx_toolstack_v1_AuditCounter)[];
  /**
   * Log lines held back by the rate limit (records still reach watchers and counters).
   */
  'logSuppressed'?: (number | string | Long);
}

export interface GetAuditCountersResponse__Output {
  'denials': (string);
  /**
   * Keys like "flask:send", "silo:register_single_source", "firewall:send".
   */
  'byPermission': (_hmx_toolstack_v1_AuditCounter__Output)[];
  /**
   * Keys like "firewall#3" (rule id) or "flask:no-allow-rule".
   */
  'byRule': (_hmx_toolstack_v1_AuditCounter__Output)[];
  /**
   * Log lines held back by the rate limit (records still reach watchers and counters).
   */
  'logSuppressed': (string);
}
