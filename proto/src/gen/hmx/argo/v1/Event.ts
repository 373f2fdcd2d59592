// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Virq as _hmx_argo_v1_Virq, Virq__Output as _hmx_argo_v1_Virq__Output } from '../../../hmx/argo/v1/Virq.js';
import type { DeviceEvent as _hmx_argo_v1_DeviceEvent, DeviceEvent__Output as _hmx_argo_v1_DeviceEvent__Output } from '../../../hmx/argo/v1/DeviceEvent.js';

export interface Event {
  'virq'?: (_hmx_argo_v1_Virq | null);
  /**
   * A device was hot-added (Toolstack AttachDevice) or created with the domain.
   */
  'deviceAdded'?: (_hmx_argo_v1_DeviceEvent | null);
  /**
   * A device was removed (Toolstack DetachDevice, or its peer domain was destroyed).
   */
  'deviceRemoved'?: (_hmx_argo_v1_DeviceEvent | null);
  'kind'?: "virq"|"deviceAdded"|"deviceRemoved";
}

export interface Event__Output {
  'virq'?: (_hmx_argo_v1_Virq__Output | null);
  /**
   * A device was hot-added (Toolstack AttachDevice) or created with the domain.
   */
  'deviceAdded'?: (_hmx_argo_v1_DeviceEvent__Output | null);
  /**
   * A device was removed (Toolstack DetachDevice, or its peer domain was destroyed).
   */
  'deviceRemoved'?: (_hmx_argo_v1_DeviceEvent__Output | null);
  'kind'?: "virq"|"deviceAdded"|"deviceRemoved";
}
