// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { AccessStep as _hmx_toolstack_v1_AccessStep, AccessStep__Output as _hmx_toolstack_v1_AccessStep__Output } from '../../../hmx/toolstack/v1/AccessStep.js';

export interface CheckAccessResponse {
  'allowed'?: (boolean);
  /**
   * What the hypercall would return from its MAC checks: 0 or a negative errno.
   */
  'ret'?: (number);
  /**
   * Every hook consulted, stopping at the first denial.
   */
  'steps'?: (_hmx_toolstack_v1_AccessStep)[];
  /**
   * The deciding step's rule (the denying step, or the last step when allowed).
   */
  'decidedBy'?: (string);
}

export interface CheckAccessResponse__Output {
  'allowed': (boolean);
  /**
   * What the hypercall would return from its MAC checks: 0 or a negative errno.
   */
  'ret': (number);
  /**
   * Every hook consulted, stopping at the first denial.
   */
  'steps': (_hmx_toolstack_v1_AccessStep__Output)[];
  /**
   * The deciding step's rule (the denying step, or the last step when allowed).
   */
  'decidedBy': (string);
}
