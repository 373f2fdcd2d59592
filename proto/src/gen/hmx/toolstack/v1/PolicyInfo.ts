// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FlaskMode as _hmx_toolstack_v1_FlaskMode, FlaskMode__Output as _hmx_toolstack_v1_FlaskMode__Output } from '../../../hmx/toolstack/v1/FlaskMode.js';
import type { Long } from '@grpc/proto-loader';

export interface PolicyInfo {
  /**
   * False until a policy is loaded (and always under the dummy and silo modules).
   */
  'loaded'?: (boolean);
  /**
   * The name the policy was loaded under (used in diagnostics and rule locations).
   */
  'fileName'?: (string);
  /**
   * Hex SHA-256 of the source text.
   */
  'sha256'?: (string);
  'types'?: (number);
  'attributes'?: (number);
  'allowRules'?: (number);
  /**
   * RFC 3339 time of the load.
   */
  'loadedAt'?: (string);
  /**
   * Increases by one on every successful load (0: none yet).
   */
  'generation'?: (number | string | Long);
  /**
   * "dummy", "flask" or "silo".
   */
  'xsmModule'?: (string);
  'flaskMode'?: (_hmx_toolstack_v1_FlaskMode);
}

export interface PolicyInfo__Output {
  /**
   * False until a policy is loaded (and always under the dummy and silo modules).
   */
  'loaded': (boolean);
  /**
   * The name the policy was loaded under (used in diagnostics and rule locations).
   */
  'fileName': (string);
  /**
   * Hex SHA-256 of the source text.
   */
  'sha256': (string);
  'types': (number);
  'attributes': (number);
  'allowRules': (number);
  /**
   * RFC 3339 time of the load.
   */
  'loadedAt': (string);
  /**
   * Increases by one on every successful load (0: none yet).
   */
  'generation': (string);
  /**
   * "dummy", "flask" or "silo".
   */
  'xsmModule': (string);
  'flaskMode': (_hmx_toolstack_v1_FlaskMode__Output);
}
