// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DeviceSpec as _hmx_toolstack_v1_DeviceSpec, DeviceSpec__Output as _hmx_toolstack_v1_DeviceSpec__Output } from '../../../hmx/toolstack/v1/DeviceSpec.js';

/**
 * A device as the toolstack placed it.
 */
export interface DeviceInfo {
  'frontendDomid'?: (number);
  /**
   * Index in the front end's table; unique per front end.
   */
  'devIndex'?: (number);
  'spec'?: (_hmx_toolstack_v1_DeviceSpec | null);
  /**
   * Where the back end receives (its ring, partner = the front end) ...
   */
  'backendPort'?: (number);
  /**
   * ... and where the front end receives (partner = the back end).
   */
  'frontendPort'?: (number);
}

/**
 * A device as the toolstack placed it.
 */
export interface DeviceInfo__Output {
  'frontendDomid': (number);
  /**
   * Index in the front end's table; unique per front end.
   */
  'devIndex': (number);
  'spec': (_hmx_toolstack_v1_DeviceSpec__Output | null);
  /**
   * Where the back end receives (its ring, partner = the front end) ...
   */
  'backendPort': (number);
  /**
   * ... and where the front end receives (partner = the back end).
   */
  'frontendPort': (number);
}
