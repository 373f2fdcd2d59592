// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

/**
 * The XSM permissions of Flask class `argo` (xen/xsm/flask/policy/access_vectors).
 */
export const ArgoPermission = {
  ARGO_PERMISSION_UNSPECIFIED: 'ARGO_PERMISSION_UNSPECIFIED',
  /**
   * Domain -> xen_t: at domain creation and at the top of every hypercall.
   */
  ARGO_PERMISSION_ENABLE: 'ARGO_PERMISSION_ENABLE',
  /**
   * Ring owner -> partner: registering a unicast ring.
   */
  ARGO_PERMISSION_REGISTER_SINGLE_SOURCE: 'ARGO_PERMISSION_REGISTER_SINGLE_SOURCE',
  /**
   * Ring owner -> xen_t: registering a wildcard ring (only with --argo-mac-permissive).
   */
  ARGO_PERMISSION_REGISTER_ANY_SOURCE: 'ARGO_PERMISSION_REGISTER_ANY_SOURCE',
  /**
   * Sender -> ring owner: sendv and each notify entry.
   */
  ARGO_PERMISSION_SEND: 'ARGO_PERMISSION_SEND',
} as const;

/**
 * The XSM permissions of Flask class `argo` (xen/xsm/flask/policy/access_vectors).
 */
export type ArgoPermission =
  | 'ARGO_PERMISSION_UNSPECIFIED'
  | 0
  /**
   * Domain -> xen_t: at domain creation and at the top of every hypercall.
   */
  | 'ARGO_PERMISSION_ENABLE'
  | 1
  /**
   * Ring owner -> partner: registering a unicast ring.
   */
  | 'ARGO_PERMISSION_REGISTER_SINGLE_SOURCE'
  | 2
  /**
   * Ring owner -> xen_t: registering a wildcard ring (only with --argo-mac-permissive).
   */
  | 'ARGO_PERMISSION_REGISTER_ANY_SOURCE'
  | 3
  /**
   * Sender -> ring owner: sendv and each notify entry.
   */
  | 'ARGO_PERMISSION_SEND'
  | 4

/**
 * The XSM permissions of Flask class `argo` (xen/xsm/flask/policy/access_vectors).
 */
export type ArgoPermission__Output = typeof ArgoPermission[keyof typeof ArgoPermission]
