// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


/**
 * xen_argo_addr without its pad.
 */
export interface ArgoAddr {
  'aport'?: (number);
  'domainId'?: (number);
}

/**
 * xen_argo_addr without its pad.
 */
export interface ArgoAddr__Output {
  'aport': (number);
  'domainId': (number);
}
