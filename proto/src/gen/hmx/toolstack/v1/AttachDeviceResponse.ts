// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DeviceInfo as _hmx_toolstack_v1_DeviceInfo, DeviceInfo__Output as _hmx_toolstack_v1_DeviceInfo__Output } from '../../../hmx/toolstack/v1/DeviceInfo.js';

export interface AttachDeviceResponse {
  'device'?: (_hmx_toolstack_v1_DeviceInfo | null);
}

export interface AttachDeviceResponse__Output {
  'device': (_hmx_toolstack_v1_DeviceInfo__Output | null);
}
