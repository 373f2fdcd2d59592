// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { FlaskMode as _hmx_toolstack_v1_FlaskMode, FlaskMode__Output as _hmx_toolstack_v1_FlaskMode__Output } from '../../../hmx/toolstack/v1/FlaskMode.js';

export interface SetFlaskModeRequest {
  'mode'?: (_hmx_toolstack_v1_FlaskMode);
}

export interface SetFlaskModeRequest__Output {
  'mode': (_hmx_toolstack_v1_FlaskMode__Output);
}
