// SPDX-License-Identifier: Apache-2.0
/**
 * The Flask XSM module for Argo (xen/xsm/flask/hooks.c `flask_argo_*`): each hook is an
 * `avc_has_perm` of class `argo` between the subject's type and the target's type (`xen_t`
 * for `enable` and `register_any_source`), answered through the AVC; a denial is `-EACCES`.
 * Before any policy is loaded Flask allows everything, as Xen's security server does until
 * its first load (`ss_initialized`). Enforcing versus permissive is applied by the caller
 * (`mac-controller.ts`), which must audit the denial either way. Live domains memoise their
 * sid and hot access vectors in `d->ssid` (`domain-security.ts`), checked against the policy
 * identity on every use, so the common hypercall costs no map lookup at all.
 */
import { Errno } from "@hmx/proto/abi";

import type { AccessVectorCache } from "./avc.js";
import { DomainSecurity } from "./domain-security.js";
import { PERM_NAMES, XEN_TYPE, type ArgoPerm, type MacSubject } from "./permissions.js";
import { permBitIndex, type AvDecision, type CompiledPolicy } from "./policy.js";
import type { XsmModule } from "./xsm-module.js";

/**
 * A live domain's memo for `policy`, reset if it was computed under another policy; undefined
 * for a hypothetical subject (no `ssid` slot).
 */
function security(policy: CompiledPolicy, subject: MacSubject): DomainSecurity | undefined {
  if (subject.ssid === undefined) return undefined;
  let sec = subject.ssid;
  if (sec === null) {
    sec = new DomainSecurity();
    subject.ssid = sec;
  }
  if (sec.policy !== policy) {
    sec.policy = policy;
    sec.sid = policy.sidOfLabel(subject.label);
    sec.xenAv = null;
    sec.last = null;
  }
  return sec;
}

/** A Flask module bound to one policy's AVC (or to none: no policy loaded yet). */
export class FlaskModule implements XsmModule {
  readonly name = "flask";
  readonly avc: AccessVectorCache | null;

  constructor(avc: AccessVectorCache | null) {
    this.avc = avc;
  }

  check(perm: ArgoPerm, subject: MacSubject, target: MacSubject | null): number {
    const avc = this.avc;
    if (avc === null) return 0;
    return (this.#av(avc, subject, target).allowed & perm) !== 0 ? 0 : -Errno.EACCES;
  }

  /**
   * The access vector of (subject, target): from the subject's `d->ssid` memo when it is a live
   * domain and the memo belongs to this policy, else from the AVC (and memoised).
   */
  #av(avc: AccessVectorCache, subject: MacSubject, target: MacSubject | null): AvDecision {
    const policy = avc.policy;
    const memo = subject.ssid;
    // Fast path: one policy identity check and one field read.
    if (memo?.policy === policy) {
      if (target === null) {
        if (memo.xenAv !== null) return memo.xenAv;
      } else if (memo.last?.target === target) {
        return memo.last.av;
      }
    }
    const sec = security(policy, subject);
    if (target === null) {
      if (sec === undefined) return avc.lookup(policy.sidOfLabel(subject.label), policy.xenSid);
      return (sec.xenAv = avc.lookup(sec.sid, policy.xenSid));
    }
    const tsec = security(policy, target);
    const tsid = tsec === undefined ? policy.sidOfLabel(target.label) : tsec.sid;
    const av = avc.lookup(sec === undefined ? policy.sidOfLabel(subject.label) : sec.sid, tsid);
    // Only live targets are memoised: a hypothetical one has no identity to compare.
    if (sec !== undefined && tsec !== undefined) sec.last = { target, av };
    return av;
  }

  explain(perm: ArgoPerm, subject: MacSubject, target: MacSubject | null): string {
    const avc = this.avc;
    const name = PERM_NAMES[perm];
    if (avc === null) return `no policy loaded: flask allows ${name}`;
    const policy = avc.policy;
    const ssid = policy.sidOfLabel(subject.label);
    const tsid = target === null ? policy.xenSid : policy.sidOfLabel(target.label);
    const rule = this.#av(avc, subject, target).rules[permBitIndex(perm)];
    if (rule !== undefined) return `${rule.location}: ${rule.text}`;
    const stype = policy.typeNames[ssid] ?? "?";
    const ttype = target === null ? XEN_TYPE : (policy.typeNames[tsid] ?? "?");
    return `no allow rule grants ${stype} ${ttype}:argo ${name}`;
  }

  /** The Flask types a check is between, for audit records. */
  types(subject: MacSubject, target: MacSubject | null): { stype: string; ttype: string } {
    const policy = this.avc?.policy;
    if (policy === undefined) return { stype: subject.label, ttype: target?.label ?? XEN_TYPE };
    return {
      stype: policy.typeNames[policy.sidOfLabel(subject.label)] ?? "?",
      ttype:
        target === null ? XEN_TYPE : (policy.typeNames[policy.sidOfLabel(target.label)] ?? "?"),
    };
  }
}
