// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FaultInfo as _hmx_toolstack_v1_FaultInfo, FaultInfo__Output as _hmx_toolstack_v1_FaultInfo__Output } from '../../../hmx/toolstack/v1/FaultInfo.js';

export interface ApplyFaultResponse {
  'fault'?: (_hmx_toolstack_v1_FaultInfo | null);
}

export interface ApplyFaultResponse__Output {
  'fault': (_hmx_toolstack_v1_FaultInfo__Output | null);
}
