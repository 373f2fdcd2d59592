// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface SessionOpen {
  /**
   * Results with request_id <= this may be dropped from the resume log.
   */
  'ackThrough'?: (number | string | Long);
  /**
   * Ring bytes the hypervisor may copy into each VIRQ event of this session (Virq.rings),
   * across all rings; 0 (the default) = none. At most 1049600 (a 1 MiB message and its header,
   * with room to spare), else the session is refused.
   */
  'virqRingBytes'?: (number);
}

export interface SessionOpen__Output {
  /**
   * Results with request_id <= this may be dropped from the resume log.
   */
  'ackThrough': (string);
  /**
   * Ring bytes the hypervisor may copy into each VIRQ event of this session (Virq.rings),
   * across all rings; 0 (the default) = none. At most 1049600 (a 1 MiB message and its header,
   * with room to spare), else the session is refused.
   */
  'virqRingBytes': (number);
}
