// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { PolicyInfo as _hmx_toolstack_v1_PolicyInfo, PolicyInfo__Output as _hmx_toolstack_v1_PolicyInfo__Output } from '../../../hmx/toolstack/v1/PolicyInfo.js';

export interface GetPolicyResponse {
  'info'?: (_hmx_toolstack_v1_PolicyInfo | null);
  'source'?: (string);
}

export interface GetPolicyResponse__Output {
  'info': (_hmx_toolstack_v1_PolicyInfo__Output | null);
  'source': (string);
}
