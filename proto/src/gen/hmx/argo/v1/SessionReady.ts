// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface SessionReady {
  'domid'?: (number);
  /**
   * Highest request id this domain has executed (0 if none).
   */
  'lastExecuted'?: (number | string | Long);
  /**
   * How many unacknowledged results the resume log keeps; a client keeps fewer in flight.
   */
  'resumeWindow'?: (number);
  /**
   * Most calls one batch may carry.
   */
  'maxBatch'?: (number);
  /**
   * The SessionOpen.virq_ring_bytes this session's VIRQ events honour (0: they carry no ring
   * data). A guest relies on Virq.rings listing every ring with unread data only when this is
   * set, so that a hypervisor without the field is never read as "all rings empty".
   */
  'virqRingBytes'?: (number);
  /**
   * HypercallBatch.after is honoured. A guest pipelines dependent batches only when this is
   * set: a hypervisor without the field would ignore `after` and could run a batch whose
   * predecessor stopped, reordering the stream.
   */
  'dependentBatches'?: (boolean);
}

export interface SessionReady__Output {
  'domid': (number);
  /**
   * Highest request id this domain has executed (0 if none).
   */
  'lastExecuted': (string);
  /**
   * How many unacknowledged results the resume log keeps; a client keeps fewer in flight.
   */
  'resumeWindow': (number);
  /**
   * Most calls one batch may carry.
   */
  'maxBatch': (number);
  /**
   * The SessionOpen.virq_ring_bytes this session's VIRQ events honour (0: they carry no ring
   * data). A guest relies on Virq.rings listing every ring with unread data only when this is
   * set, so that a hypervisor without the field is never read as "all rings empty".
   */
  'virqRingBytes': (number);
  /**
   * HypercallBatch.after is honoured. A guest pipelines dependent batches only when this is
   * set: a hypervisor without the field would ignore `after` and could run a batch whose
   * predecessor stopped, reordering the stream.
   */
  'dependentBatches': (boolean);
}
