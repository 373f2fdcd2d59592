// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


/**
 * A fault on one domain's link to the hypervisor (the Toxiproxy proxy named after the domain).
 */
export interface LinkFault {
  'domain'?: (string);
  /**
   * Take the link down (Toxiproxy `enabled: false`) ...
   */
  'down'?: (boolean);
  /**
   * ... or add this toxic, in Toxiproxy's JSON: {"type", "name", "stream", "toxicity", "attributes"}.
   */
  'toxicJson'?: (string);
}

/**
 * A fault on one domain's link to the hypervisor (the Toxiproxy proxy named after the domain).
 */
export interface LinkFault__Output {
  'domain': (string);
  /**
   * Take the link down (Toxiproxy `enabled: false`) ...
   */
  'down': (boolean);
  /**
   * ... or add this toxic, in Toxiproxy's JSON: {"type", "name", "stream", "toxicity", "attributes"}.
   */
  'toxicJson': (string);
}
