// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


/**
 * A subject or object of an access check: a live domain, or a hypothetical one by label.
 */
export interface MacSubject {
  'domid'?: (number);
  'label'?: (string);
  /**
   * For a hypothetical subject only: whether it would be the control domain (SILO).
   */
  'privileged'?: (boolean);
  'subject'?: "domid"|"label";
}

/**
 * A subject or object of an access check: a live domain, or a hypothetical one by label.
 */
export interface MacSubject__Output {
  'domid'?: (number);
  'label'?: (string);
  /**
   * For a hypothetical subject only: whether it would be the control domain (SILO).
   */
  'privileged': (boolean);
  'subject'?: "domid"|"label";
}
