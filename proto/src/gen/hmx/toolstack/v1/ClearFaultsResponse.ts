// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface ClearFaultsResponse {
  /**
   * The ids of the faults ended.
   */
  'cleared'?: (string)[];
}

export interface ClearFaultsResponse__Output {
  /**
   * The ids of the faults ended.
   */
  'cleared': (string)[];
}
