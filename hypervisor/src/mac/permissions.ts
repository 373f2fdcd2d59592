// SPDX-License-Identifier: Apache-2.0
/**
 * The vocabulary every MAC module shares: Flask class `argo` and its four permissions
 * (xen/xsm/flask/policy/access_vectors), the subjects a check is about, and how a domain's
 * label maps to a Flask type. Permissions are bits so that one access vector (Flask's
 * `av_decision.allowed`) answers all four at once.
 */

import type { DomainSecurity } from "./domain-security.js";

/** The four permissions of Flask class `argo`, as bits of an access vector. */
export const ArgoPerm = {
  ENABLE: 1,
  REGISTER_SINGLE_SOURCE: 2,
  REGISTER_ANY_SOURCE: 4,
  SEND: 8,
} as const;
export type ArgoPerm = (typeof ArgoPerm)[keyof typeof ArgoPerm];

/** Every permission bit. */
export const ALL_ARGO_PERMS = 0xf;

/** Permission names as they appear in policies and audit records. */
export const PERM_NAMES: Readonly<Record<ArgoPerm, string>> = {
  1: "enable",
  2: "register_single_source",
  4: "register_any_source",
  8: "send",
};

/** Name → bit, for the policy parser and the toolstack. */
export const PERM_BY_NAME: ReadonlyMap<string, ArgoPerm> = new Map<string, ArgoPerm>([
  ["enable", ArgoPerm.ENABLE],
  ["register_single_source", ArgoPerm.REGISTER_SINGLE_SOURCE],
  ["register_any_source", ArgoPerm.REGISTER_ANY_SOURCE],
  ["send", ArgoPerm.SEND],
]);

/** The Flask object class of every Argo check. */
export const ARGO_CLASS = "argo";

/**
 * The type Xen itself carries (SECINITSID_XEN): the target of `enable` and
 * `register_any_source`. Built into every policy.
 */
export const XEN_TYPE = "xen_t";

/**
 * The type of a domain whose label names no type of the loaded policy (SECINITSID_UNLABELED).
 * Built into every policy, so rules may mention it; with no rule it can do nothing.
 */
export const UNLABELED_TYPE = "unlabeled_t";

/**
 * What a MAC check is about: a live `Domain` satisfies it, and the what-if query builds
 * hypothetical ones (domid 0, which never names a live domain).
 */
export interface MacSubject {
  readonly domid: number;
  readonly label: string;
  /** Xen `is_control_domain`. */
  readonly privileged: boolean;
  /**
   * A live domain's MAC memo (`d->ssid`); absent for hypothetical subjects, which are then
   * answered without memoising.
   */
  ssid?: DomainSecurity | null;
}

/**
 * The Flask type of a label: the third field of a full context `user:role:type[:level]`,
 * otherwise the label itself (hmx labels are usually bare types such as `client_t`).
 */
export function typeOfLabel(label: string): string {
  const first = label.indexOf(":");
  if (first < 0) return label;
  const second = label.indexOf(":", first + 1);
  if (second < 0) return label;
  const third = label.indexOf(":", second + 1);
  return label.slice(second + 1, third < 0 ? undefined : third);
}
