// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

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
}
