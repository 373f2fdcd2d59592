// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DeviceInfo as _hmx_toolstack_v1_DeviceInfo, DeviceInfo__Output as _hmx_toolstack_v1_DeviceInfo__Output } from '../../../hmx/toolstack/v1/DeviceInfo.js';

export interface CreateDomainResponse {
  'domid'?: (number);
  'credential'?: (string);
  /**
   * The devices as placed (indexes and ports), in the order requested.
   */
  'devices'?: (_hmx_toolstack_v1_DeviceInfo)[];
}

export interface CreateDomainResponse__Output {
  'domid': (number);
  'credential': (string);
  /**
   * The devices as placed (indexes and ports), in the order requested.
   */
  'devices': (_hmx_toolstack_v1_DeviceInfo__Output)[];
}
