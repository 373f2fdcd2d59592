// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { PolicyInfo as _hmx_toolstack_v1_PolicyInfo, PolicyInfo__Output as _hmx_toolstack_v1_PolicyInfo__Output } from '../../../hmx/toolstack/v1/PolicyInfo.js';

export interface LoadPolicyResponse {
  'info'?: (_hmx_toolstack_v1_PolicyInfo | null);
}

export interface LoadPolicyResponse__Output {
  'info': (_hmx_toolstack_v1_PolicyInfo__Output | null);
}
