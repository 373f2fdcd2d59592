// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface ListFirewallRulesRequest {
  'skip'?: (number);
  /**
   * Default 8 (OpenXT's page); at most 1000.
   */
  'pageSize'?: (number);
}

export interface ListFirewallRulesRequest__Output {
  'skip': (number);
  /**
   * Default 8 (OpenXT's page); at most 1000.
   */
  'pageSize': (number);
}
