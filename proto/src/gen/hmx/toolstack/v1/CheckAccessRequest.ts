// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { MacSubject as _hmx_toolstack_v1_MacSubject, MacSubject__Output as _hmx_toolstack_v1_MacSubject__Output } from '../../../hmx/toolstack/v1/MacSubject.js';
import type { ArgoPermission as _hmx_toolstack_v1_ArgoPermission, ArgoPermission__Output as _hmx_toolstack_v1_ArgoPermission__Output } from '../../../hmx/toolstack/v1/ArgoPermission.js';

export interface CheckAccessRequest {
  'source'?: (_hmx_toolstack_v1_MacSubject | null);
  /**
   * The ring owner (SEND) or partner (REGISTER_SINGLE_SOURCE); unset for ENABLE and
   * REGISTER_ANY_SOURCE, whose target is Xen itself.
   */
  'target'?: (_hmx_toolstack_v1_MacSubject | null);
  /**
   * Default SEND.
   */
  'permission'?: (_hmx_toolstack_v1_ArgoPermission);
  /**
   * SEND only: the destination ring's port and the (unauthenticated) source port.
   */
  'dstPort'?: (number);
  'srcPort'?: (number);
}

export interface CheckAccessRequest__Output {
  'source': (_hmx_toolstack_v1_MacSubject__Output | null);
  /**
   * The ring owner (SEND) or partner (REGISTER_SINGLE_SOURCE); unset for ENABLE and
   * REGISTER_ANY_SOURCE, whose target is Xen itself.
   */
  'target': (_hmx_toolstack_v1_MacSubject__Output | null);
  /**
   * Default SEND.
   */
  'permission': (_hmx_toolstack_v1_ArgoPermission__Output);
  /**
   * SEND only: the destination ring's port and the (unauthenticated) source port.
   */
  'dstPort': (number);
  'srcPort': (number);
}
