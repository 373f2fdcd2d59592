// SPDX-License-Identifier: Apache-2.0
/**
 * The four XSM hooks Argo calls, one-for-one (argo-spec §6.1), plus OpenXT's viptables check
 * (argo-spec §6.3), which sendv makes right after a successful `send`. Each returns 0 to allow
 * or a negative errno to deny. Until a policy module is configured hmx behaves as Xen built
 * without XSM: the dummy module allows everything and there is no firewall. The MAC
 * controller (`mac/mac-controller.ts`) is the configurable implementation.
 */
import type { Domain } from "../domain/domain.js";

export interface ArgoMac {
  /** `xsm_argo_enable(d)`: at domain creation and at the top of every hypercall. */
  enable(domain: Domain): number;
  /** `xsm_argo_register_single_source(owner, partner)`: registering a unicast ring. */
  registerSingleSource(owner: Domain, partner: Domain): number;
  /** `xsm_argo_register_any_source(owner)`: registering a wildcard ring (mac-permissive only). */
  registerAnySource(owner: Domain): number;
  /** `xsm_argo_send(sender, ringOwner)`: on sendv and on every notify entry. */
  send(sender: Domain, ringOwner: Domain): number;
  /**
   * OpenXT viptables: sendv only, after `send`, with the source port as the sender wrote it
   * (unauthenticated) and the destination port. A REJECT is -EPERM.
   */
  firewall(sender: Domain, srcAport: number, ringOwner: Domain, dstAport: number): number;
}

/** Xen's dummy XSM module (`xen/include/xsm/dummy.h`): every hook returns 0. */
export const dummyMac: ArgoMac = {
  enable: () => 0,
  registerSingleSource: () => 0,
  registerAnySource: () => 0,
  send: () => 0,
  firewall: () => 0,
};
