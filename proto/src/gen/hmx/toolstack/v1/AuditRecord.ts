// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { Long } from '@grpc/proto-loader';

export interface AuditRecord {
  'seq'?: (number | string | Long);
  /**
   * RFC 3339.
   */
  'time'?: (string);
  /**
   * "flask", "silo" or "firewall".
   */
  'module'?: (string);
  /**
   * "enable", "register_single_source", "register_any_source" or "send".
   */
  'permission'?: (string);
  'scontext'?: (string);
  /**
   * The target's label, or "xen_t" for ENABLE and REGISTER_ANY_SOURCE.
   */
  'tcontext'?: (string);
  'tclass'?: (string);
  'sourceDomid'?: (number);
  /**
   * 0 when the target is Xen itself.
   */
  'targetDomid'?: (number);
  /**
   * Firewall records only (ports are not known to the XSM hooks, as in Xen).
   */
  'hasPorts'?: (boolean);
  'srcPort'?: (number);
  'dstPort'?: (number);
  /**
   * The deciding rule, or a reason such as "no allow rule".
   */
  'rule'?: (string);
  /**
   * The errno the hook returned (0 when Flask was permissive).
   */
  'ret'?: (number);
  'permissive'?: (boolean);
  /**
   * The whole record as one "avc: denied { send } for ..." line.
   */
  'text'?: (string);
  /**
   * Records this watcher lost before this one because it was too slow.
   */
  'droppedBefore'?: (number | string | Long);
}

export interface AuditRecord__Output {
  'seq': (string);
  /**
   * RFC 3339.
   */
  'time': (string);
  /**
   * "flask", "silo" or "firewall".
   */
  'module': (string);
  /**
   * "enable", "register_single_source", "register_any_source" or "send".
   */
  'permission': (string);
  'scontext': (string);
  /**
   * The target's label, or "xen_t" for ENABLE and REGISTER_ANY_SOURCE.
   */
  'tcontext': (string);
  'tclass': (string);
  'sourceDomid': (number);
  /**
   * 0 when the target is Xen itself.
   */
  'targetDomid': (number);
  /**
   * Firewall records only (ports are not known to the XSM hooks, as in Xen).
   */
  'hasPorts': (boolean);
  'srcPort': (number);
  'dstPort': (number);
  /**
   * The deciding rule, or a reason such as "no allow rule".
   */
  'rule': (string);
  /**
   * The errno the hook returned (0 when Flask was permissive).
   */
  'ret': (number);
  'permissive': (boolean);
  /**
   * The whole record as one "avc: denied { send } for ..." line.
   */
  'text': (string);
  /**
   * Records this watcher lost before this one because it was too slow.
   */
  'droppedBefore': (string);
}
