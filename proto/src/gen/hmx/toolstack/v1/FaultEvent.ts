// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A fault's start, change or end (the history's `fault` event).
 */
export interface FaultEvent {
  /**
   * "argo" or "link".
   */
  'kind'?: (string);
  /**
   * "start", "update" or "end".
   */
  'action'?: (string);
  /**
   * What the fault acts on: "vm1<->vm2", "vm1->*", a domain name.
   */
  'target'?: (string);
  /**
   * The fault's id, as FaultInfo.id and ClearFaults take it.
   */
  'id'?: (string);
  /**
   * The fault as configured, as JSON.
   */
  'detailJson'?: (string);
  /**
   * Milliseconds since the epoch.
   */
  'timeMs'?: (number | string | Long);
}

/**
 * A fault's start, change or end (the history's `fault` event).
 */
export interface FaultEvent__Output {
  /**
   * "argo" or "link".
   */
  'kind': (string);
  /**
   * "start", "update" or "end".
   */
  'action': (string);
  /**
   * What the fault acts on: "vm1<->vm2", "vm1->*", a domain name.
   */
  'target': (string);
  /**
   * The fault's id, as FaultInfo.id and ClearFaults take it.
   */
  'id': (string);
  /**
   * The fault as configured, as JSON.
   */
  'detailJson': (string);
  /**
   * Milliseconds since the epoch.
   */
  'timeMs': (string);
}
