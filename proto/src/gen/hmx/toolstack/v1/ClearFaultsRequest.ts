// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface ClearFaultsRequest {
  /**
   * Empty: every fault.
   */
  'ids'?: (string)[];
}

export interface ClearFaultsRequest__Output {
  /**
   * Empty: every fault.
   */
  'ids': (string)[];
}
