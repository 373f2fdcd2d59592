// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


/**
 * A fault between domains that shows a guest only what Xen's Argo can show it (docs/chaos.md).
 * Domains are named by their domain names. Fields that do not apply to the type must be left
 * unset (INVALID_ARGUMENT otherwise, so no setting is silently ignored).
 */
export interface ArgoFault {
  /**
   * "partition", "eagain", "delay", "late_virq" or "pause".
   */
  'type'?: (string);
  /**
   * The domains acted on: the senders (partition, eagain), or the slow (delay), late (late_virq)
   * or paused (pause) domains. At least one.
   */
  'from'?: (string)[];
  /**
   * partition, eagain: the destinations; empty means every other domain.
   */
  'to'?: (string)[];
  /**
   * partition: `to` cannot send to `from` either.
   */
  'bothWays'?: (boolean);
  /**
   * partition: "full" (default: -EAGAIN, the space VIRQ at the heal) or "refused" (-ECONNREFUSED).
   */
  'show'?: (string);
  /**
   * eagain: the chance that one sendv is refused, in (0, 1]; unset means 1.
   */
  'probability'?: (number | string);
  /**
   * delay, late_virq: milliseconds added (at least 1); eagain: until the refused sender's space
   * VIRQ (unset means 1).
   */
  'delayMs'?: (number);
  /**
   * delay, late_virq: up to this many milliseconds more or less (at most delay_ms).
   */
  'jitterMs'?: (number);
}

/**
 * A fault between domains that shows a guest only what Xen's Argo can show it (docs/chaos.md).
 * Domains are named by their domain names. Fields that do not apply to the type must be left
 * unset (INVALID_ARGUMENT otherwise, so no setting is silently ignored).
 */
export interface ArgoFault__Output {
  /**
   * "partition", "eagain", "delay", "late_virq" or "pause".
   */
  'type': (string);
  /**
   * The domains acted on: the senders (partition, eagain), or the slow (delay), late (late_virq)
   * or paused (pause) domains. At least one.
   */
  'from': (string)[];
  /**
   * partition, eagain: the destinations; empty means every other domain.
   */
  'to': (string)[];
  /**
   * partition: `to` cannot send to `from` either.
   */
  'bothWays': (boolean);
  /**
   * partition: "full" (default: -EAGAIN, the space VIRQ at the heal) or "refused" (-ECONNREFUSED).
   */
  'show': (string);
  /**
   * eagain: the chance that one sendv is refused, in (0, 1]; unset means 1.
   */
  'probability': (number);
  /**
   * delay, late_virq: milliseconds added (at least 1); eagain: until the refused sender's space
   * VIRQ (unset means 1).
   */
  'delayMs': (number);
  /**
   * delay, late_virq: up to this many milliseconds more or less (at most delay_ms).
   */
  'jitterMs': (number);
}
