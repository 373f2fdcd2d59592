// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DeviceSpec as _hmx_toolstack_v1_DeviceSpec, DeviceSpec__Output as _hmx_toolstack_v1_DeviceSpec__Output } from '../../../hmx/toolstack/v1/DeviceSpec.js';
import type { Long } from '@grpc/proto-loader';

export interface CreateDomainRequest {
  /**
   * Unique among live domains; 1..64 characters of [A-Za-z0-9._-].
   */
  'name'?: (string);
  /**
   * Security label (Flask-style type, e.g. "domU_t"); 1..64 characters of [A-Za-z0-9_.:-].
   */
  'label'?: (string);
  'memoryBytes'?: (number | string | Long);
  /**
   * The control domain (Xen `is_control_domain`): SILO lets it talk to everyone. Flask
   * ignores it (the policy decides by label). Default false.
   */
  'privileged'?: (boolean);
  /**
   * VirtIO devices of the new domain (its front ends): written into its virtual ACPI table at
   * gfn 0 before this call returns, and into each back end's table (docs/virtio-argo.md).
   */
  'devices'?: (_hmx_toolstack_v1_DeviceSpec)[];
}

export interface CreateDomainRequest__Output {
  /**
   * Unique among live domains; 1..64 characters of [A-Za-z0-9._-].
   */
  'name': (string);
  /**
   * Security label (Flask-style type, e.g. "domU_t"); 1..64 characters of [A-Za-z0-9_.:-].
   */
  'label': (string);
  'memoryBytes': (string);
  /**
   * The control domain (Xen `is_control_domain`): SILO lets it talk to everyone. Flask
   * ignores it (the policy decides by label). Default false.
   */
  'privileged': (boolean);
  /**
   * VirtIO devices of the new domain (its front ends): written into its virtual ACPI table at
   * gfn 0 before this call returns, and into each back end's table (docs/virtio-argo.md).
   */
  'devices': (_hmx_toolstack_v1_DeviceSpec__Output)[];
}
