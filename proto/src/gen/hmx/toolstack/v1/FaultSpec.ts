// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { ArgoFault as _hmx_toolstack_v1_ArgoFault, ArgoFault__Output as _hmx_toolstack_v1_ArgoFault__Output } from '../../../hmx/toolstack/v1/ArgoFault.js';
import type { LinkFault as _hmx_toolstack_v1_LinkFault, LinkFault__Output as _hmx_toolstack_v1_LinkFault__Output } from '../../../hmx/toolstack/v1/LinkFault.js';

export interface FaultSpec {
  'argo'?: (_hmx_toolstack_v1_ArgoFault | null);
  'link'?: (_hmx_toolstack_v1_LinkFault | null);
  /**
   * The fault ends by itself after this many milliseconds; 0 means when it is cleared.
   */
  'durationMs'?: (number);
  'fault'?: "argo"|"link";
}

export interface FaultSpec__Output {
  'argo'?: (_hmx_toolstack_v1_ArgoFault__Output | null);
  'link'?: (_hmx_toolstack_v1_LinkFault__Output | null);
  /**
   * The fault ends by itself after this many milliseconds; 0 means when it is cleared.
   */
  'durationMs': (number);
  'fault'?: "argo"|"link";
}
