// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DeviceInfo as _hmx_toolstack_v1_DeviceInfo, DeviceInfo__Output as _hmx_toolstack_v1_DeviceInfo__Output } from '../../../hmx/toolstack/v1/DeviceInfo.js';

export interface ListDevicesResponse {
  'devices'?: (_hmx_toolstack_v1_DeviceInfo)[];
}

export interface ListDevicesResponse__Output {
  'devices': (_hmx_toolstack_v1_DeviceInfo__Output)[];
}
