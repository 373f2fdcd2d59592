// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FaultSpec as _hmx_toolstack_v1_FaultSpec, FaultSpec__Output as _hmx_toolstack_v1_FaultSpec__Output } from '../../../hmx/toolstack/v1/FaultSpec.js';

export interface ApplyFaultRequest {
  'fault'?: (_hmx_toolstack_v1_FaultSpec | null);
}

export interface ApplyFaultRequest__Output {
  'fault': (_hmx_toolstack_v1_FaultSpec__Output | null);
}
