// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface LoadPolicyRequest {
  /**
   * The policy text (at most 4 MiB of UTF-8).
   */
  'source'?: (string);
  /**
   * Shown in diagnostics and rule locations; default "policy.te".
   */
  'fileName'?: (string);
}

export interface LoadPolicyRequest__Output {
  /**
   * The policy text (at most 4 MiB of UTF-8).
   */
  'source': (string);
  /**
   * Shown in diagnostics and rule locations; default "policy.te".
   */
  'fileName': (string);
}
