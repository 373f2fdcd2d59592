// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DeviceSpec as _hmx_toolstack_v1_DeviceSpec, DeviceSpec__Output as _hmx_toolstack_v1_DeviceSpec__Output } from '../../../hmx/toolstack/v1/DeviceSpec.js';

export interface AttachDeviceRequest {
  'domid'?: (number);
  'device'?: (_hmx_toolstack_v1_DeviceSpec | null);
}

export interface AttachDeviceRequest__Output {
  'domid': (number);
  'device': (_hmx_toolstack_v1_DeviceSpec__Output | null);
}
