// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DomainCounters as _hmx_toolstack_v1_DomainCounters, DomainCounters__Output as _hmx_toolstack_v1_DomainCounters__Output } from '../../../hmx/toolstack/v1/DomainCounters.js';
import type { Long } from '@grpc/proto-loader';

export interface DomainSummary {
  'domid'?: (number);
  'name'?: (string);
  'label'?: (string);
  'memoryBytes'?: (number | string | Long);
  /**
   * Bytes of guest memory actually materialised in the hypervisor.
   */
  'memoryResidentBytes'?: (number | string | Long);
  'rings'?: (number);
  /**
   * A guest agent currently holds a Session or WatchEvents stream for this domain.
   */
  'connected'?: (boolean);
  'counters'?: (_hmx_toolstack_v1_DomainCounters | null);
  'privileged'?: (boolean);
}

export interface DomainSummary__Output {
  'domid': (number);
  'name': (string);
  'label': (string);
  'memoryBytes': (string);
  /**
   * Bytes of guest memory actually materialised in the hypervisor.
   */
  'memoryResidentBytes': (string);
  'rings': (number);
  /**
   * A guest agent currently holds a Session or WatchEvents stream for this domain.
   */
  'connected': (boolean);
  'counters': (_hmx_toolstack_v1_DomainCounters__Output | null);
  'privileged': (boolean);
}
