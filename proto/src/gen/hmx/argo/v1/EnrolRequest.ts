// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface EnrolRequest {
  'instance'?: (string);
  /**
   * The secret a first enrolment of this instance returned; needed to resume it.
   */
  'instanceSecret'?: (string);
}

export interface EnrolRequest__Output {
  'instance': (string);
  /**
   * The secret a first enrolment of this instance returned; needed to resume it.
   */
  'instanceSecret': (string);
}
