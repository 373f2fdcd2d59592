// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface Virq {
  /**
   * 11 = VIRQ_ARGO.
   */
  'virq'?: (number);
}

export interface Virq__Output {
  /**
   * 11 = VIRQ_ARGO.
   */
  'virq': (number);
}
