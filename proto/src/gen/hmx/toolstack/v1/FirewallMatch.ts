// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


/**
 * One endpoint of a firewall rule. No domain set matches every domain; no port set matches
 * every port. The source port is NOT authenticated by Argo: key rules on the source domain or
 * label and the destination port.
 */
export interface FirewallMatch {
  'domid'?: (number);
  /**
   * A domain label, or its Flask type (the third field of "user:role:type").
   */
  'label'?: (string);
  'port'?: (number);
  'domain'?: "domid"|"label";
  'portMatch'?: "port";
}

/**
 * One endpoint of a firewall rule. No domain set matches every domain; no port set matches
 * every port. The source port is NOT authenticated by Argo: key rules on the source domain or
 * label and the destination port.
 */
export interface FirewallMatch__Output {
  'domid'?: (number);
  /**
   * A domain label, or its Flask type (the third field of "user:role:type").
   */
  'label'?: (string);
  'port'?: (number);
  'domain'?: "domid"|"label";
  'portMatch'?: "port";
}
