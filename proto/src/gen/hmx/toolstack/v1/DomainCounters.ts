// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { Long } from '@grpc/proto-loader';

export interface DomainCounters {
  'hypercalls'?: (number | string | Long);
  /**
   * Hypercalls whose ret was a negative errno.
   */
  'errors'?: (number | string | Long);
  'messagesSent'?: (number | string | Long);
  'bytesSent'?: (number | string | Long);
  'messagesReceived'?: (number | string | Long);
  'bytesReceived'?: (number | string | Long);
  'virqs'?: (number | string | Long);
}

export interface DomainCounters__Output {
  'hypercalls': (string);
  /**
   * Hypercalls whose ret was a negative errno.
   */
  'errors': (string);
  'messagesSent': (string);
  'bytesSent': (string);
  'messagesReceived': (string);
  'bytesReceived': (string);
  'virqs': (string);
}
