// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { PolicyDiagnostic as _hmx_toolstack_v1_PolicyDiagnostic, PolicyDiagnostic__Output as _hmx_toolstack_v1_PolicyDiagnostic__Output } from '../../../hmx/toolstack/v1/PolicyDiagnostic.js';

export interface ValidatePolicyResponse {
  'ok'?: (boolean);
  'errors'?: (_hmx_toolstack_v1_PolicyDiagnostic)[];
  /**
   * The summary the policy would have once loaded (when ok).
   */
  'types'?: (number);
  'attributes'?: (number);
  'allowRules'?: (number);
}

export interface ValidatePolicyResponse__Output {
  'ok': (boolean);
  'errors': (_hmx_toolstack_v1_PolicyDiagnostic__Output)[];
  /**
   * The summary the policy would have once loaded (when ok).
   */
  'types': (number);
  'attributes': (number);
  'allowRules': (number);
}
