// SPDX-License-Identifier: Apache-2.0
/**
 * A domain's MAC memo, hmx's counterpart of Xen's `d->ssid` (the security blob XSM hangs off
 * every domain): the domain's sid under one compiled policy and the access vectors it needs on
 * every hypercall (to `xen_t`, and to the last ring owner it sent to), plus the outcome of the
 * hooks sendv runs on every message (enable, send, the firewall's rule for the last flow).
 * Every entry names the policy or controller state it was computed from and is used only while
 * that exact object is in force, so a policy load, mode switch or firewall change invalidates
 * all memos at once without touching them. Only allows are memoised (a denial must be audited
 * each time). It caches; it never decides.
 */
import type { FirewallRule } from "./firewall.js";
import type { MacSubject } from "./permissions.js";
import type { AvDecision, CompiledPolicy } from "./policy.js";

export class DomainSecurity {
  /** The policy `sid`, `xenAv` and `lastAv` belong to. */
  policy: CompiledPolicy | null = null;
  sid = 0;
  /** Access vector of (sid, xen_t): `enable` and `register_any_source`. */
  xenAv: AvDecision | null = null;
  /** The access vector towards the last live target of `send` or `register_single_source`. */
  last: { readonly target: MacSubject; readonly av: AvDecision } | null = null;

  /**
   * The MAC controller state (policy, mode and firewall together) the hook memo below
   * belongs to; any change to any of them is a new state object.
   */
  hookState: object | null = null;
  /** `enable` returned 0 under `hookState`. */
  enableAllowed = false;
  /** `send` to this live ring owner returned 0 under `hookState`. */
  sendAllowedTo: MacSubject | null = null;
  /** The last sendv flow through the firewall and the rule that decided it (undefined: default). */
  flowDst: MacSubject | null = null;
  flowSrcPort = -1;
  flowDstPort = -1;
  flowRule: FirewallRule | undefined = undefined;
}
