// SPDX-License-Identifier: Apache-2.0
/**
 * The interface of an XSM module as hmx's MAC controller drives it (Xen's `struct
 * xsm_ops`, reduced to the four Argo hooks folded into one `check`), and the dummy module
 * (xen/include/xsm/dummy.h), which allows everything: Xen without XSM.
 */
import { PERM_NAMES, type ArgoPerm, type MacSubject } from "./permissions.js";

export type XsmModuleName = "dummy" | "flask" | "silo";

/** The XSM module names, for flags and the toolstack. */
export const XSM_MODULE_NAMES: readonly XsmModuleName[] = ["dummy", "flask", "silo"];

export interface XsmModule {
  readonly name: XsmModuleName;
  /**
   * The hook's answer before Flask's permissive mode is applied: 0 or a negative errno.
   * `target` null means Xen itself (`enable`, `register_any_source`). The subject is also the
   * calling domain (Xen's `current->domain`) at every Argo call site.
   * Must not allocate on the allow path: it runs on every hypercall.
   */
  check(perm: ArgoPerm, subject: MacSubject, target: MacSubject | null): number;
  /** Why `check` answers as it does: the deciding rule with its location, or a reason. */
  explain(perm: ArgoPerm, subject: MacSubject, target: MacSubject | null): string;
}

/** Xen's dummy module: every hook returns 0. */
export const dummyModule: XsmModule = {
  name: "dummy",
  check: () => 0,
  explain: (perm) => `dummy module allows ${PERM_NAMES[perm]}`,
};
