// SPDX-License-Identifier: Apache-2.0
/**
 * The SILO XSM module (xen/xsm/silo.c): domains are isolated from each other unless the
 * control domain is involved. `register_single_source` and `send` are allowed only when the
 * calling domain, the ring owner or the peer is the control domain, or owner and peer are the
 * same domain; otherwise `-EPERM`. `enable` and `register_any_source` fall through to the
 * dummy behaviour (allowed).
 */
import { Errno } from "@hmx/proto/abi";

import { ArgoPerm, PERM_NAMES, type MacSubject } from "./permissions.js";
import type { XsmModule } from "./xsm-module.js";

/**
 * `silo_mode_dom_check`: `current` is the caller; at both Argo call sites it is also the
 * left-hand domain, so the check reduces to the two domains.
 */
function siloDomCheck(ldom: MacSubject, rdom: MacSubject): boolean {
  return (
    ldom.privileged ||
    rdom.privileged ||
    ldom === rdom ||
    (ldom.domid !== 0 && ldom.domid === rdom.domid)
  );
}

export const siloModule: XsmModule = {
  name: "silo",
  check(perm, subject, target) {
    if (perm !== ArgoPerm.REGISTER_SINGLE_SOURCE && perm !== ArgoPerm.SEND) return 0;
    if (target === null || siloDomCheck(subject, target)) return 0;
    return -Errno.EPERM;
  },
  explain(perm, subject, target) {
    if (perm !== ArgoPerm.REGISTER_SINGLE_SOURCE && perm !== ArgoPerm.SEND) {
      return `silo allows ${PERM_NAMES[perm]} (dummy behaviour)`;
    }
    if (target === null) return "silo: no peer";
    if (subject.privileged) return "silo: the caller is the control domain";
    if (target.privileged) return "silo: the peer is the control domain";
    if (siloDomCheck(subject, target)) return "silo: same domain";
    return "silo: neither domain is the control domain and they differ";
  },
};
