// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

export const FirewallVerdict = {
  FIREWALL_VERDICT_UNSPECIFIED: 'FIREWALL_VERDICT_UNSPECIFIED',
  FIREWALL_VERDICT_ACCEPT: 'FIREWALL_VERDICT_ACCEPT',
  /**
   * sendv fails with -EPERM.
   */
  FIREWALL_VERDICT_REJECT: 'FIREWALL_VERDICT_REJECT',
} as const;

export type FirewallVerdict =
  | 'FIREWALL_VERDICT_UNSPECIFIED'
  | 0
  | 'FIREWALL_VERDICT_ACCEPT'
  | 1
  /**
   * sendv fails with -EPERM.
   */
  | 'FIREWALL_VERDICT_REJECT'
  | 2

export type FirewallVerdict__Output = typeof FirewallVerdict[keyof typeof FirewallVerdict]
