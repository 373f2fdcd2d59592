// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


/**
 * One error in a policy file; line and column are 1-based.
 */
export interface PolicyDiagnostic {
  'file'?: (string);
  'line'?: (number);
  'column'?: (number);
  'message'?: (string);
}

/**
 * One error in a policy file; line and column are 1-based.
 */
export interface PolicyDiagnostic__Output {
  'file': (string);
  'line': (number);
  'column': (number);
  'message': (string);
}
