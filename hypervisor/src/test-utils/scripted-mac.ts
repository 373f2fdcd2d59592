// SPDX-License-Identifier: Apache-2.0
/**
 * A scriptable `ArgoMac` for tests: each hook's answer is a replaceable function (default
 * allow) and every call is logged, so tests can check both decisions and call sites.
 */
import type { ArgoMac } from "../argo/mac.js";
import type { Domain } from "../domain/domain.js";

export class ScriptedMac implements ArgoMac {
  /** `enable 3`, `single 3->4`, `any 3`, `send 3->4`, `firewall 3:5->4:9`, in call order. */
  readonly calls: string[] = [];
  enableRc: (d: Domain) => number = () => 0;
  singleRc: (owner: Domain, partner: Domain) => number = () => 0;
  anyRc: (owner: Domain) => number = () => 0;
  sendRc: (sender: Domain, owner: Domain) => number = () => 0;
  firewallRc: (sender: Domain, srcAport: number, owner: Domain, dstAport: number) => number = () =>
    0;

  enable(d: Domain): number {
    this.calls.push(`enable ${d.domid}`);
    return this.enableRc(d);
  }
  registerSingleSource(owner: Domain, partner: Domain): number {
    this.calls.push(`single ${owner.domid}->${partner.domid}`);
    return this.singleRc(owner, partner);
  }
  registerAnySource(owner: Domain): number {
    this.calls.push(`any ${owner.domid}`);
    return this.anyRc(owner);
  }
  send(sender: Domain, owner: Domain): number {
    this.calls.push(`send ${sender.domid}->${owner.domid}`);
    return this.sendRc(sender, owner);
  }
  firewall(sender: Domain, srcAport: number, owner: Domain, dstAport: number): number {
    this.calls.push(`firewall ${sender.domid}:${srcAport}->${owner.domid}:${dstAport}`);
    return this.firewallRc(sender, srcAport, owner, dstAport);
  }
}
