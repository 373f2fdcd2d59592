// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface EnrolResponse {
  'domid'?: (number);
  'credential'?: (string);
  /**
   * True when an existing domain of this template and instance was resumed.
   */
  'resumed'?: (boolean);
  'template'?: (string);
  /**
   * Issued by a first enrolment only (empty on resume): keep it to resume this instance later.
   */
  'instanceSecret'?: (string);
}

export interface EnrolResponse__Output {
  'domid': (number);
  'credential': (string);
  /**
   * True when an existing domain of this template and instance was resumed.
   */
  'resumed': (boolean);
  'template': (string);
  /**
   * Issued by a first enrolment only (empty on resume): keep it to resume this instance later.
   */
  'instanceSecret': (string);
}
