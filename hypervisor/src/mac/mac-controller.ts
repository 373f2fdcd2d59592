// SPDX-License-Identifier: Apache-2.0
/**
 * The `ArgoMac` the Argo core calls: the XSM module chosen at boot (dummy, flask or silo; Xen's
 * `xsm=` boot option), Flask's enforcing/permissive switch (`xl setenforce`), the access vector
 * cache, and the OpenXT viptables firewall, with auditing of every denial.
 *
 * Everything a decision depends on lives in one immutable `MacState`; loading a policy,
 * switching the mode or editing the firewall validates first, builds a new state (with a fresh
 * AVC for a new policy) and swaps it in with one assignment. Hypercalls run synchronously on
 * the event loop and toolstack changes run between them, so a hypercall's hooks (enable, then
 * send, then firewall; or every notify entry) all read the same state: never half of the old
 * policy and half of the new one.
 *
 * The what-if query (`checkAccess`) walks the hooks of the checked call in the hypercall's
 * order through the same `decideXsm` / `decideFirewall` functions as enforcement; it only
 * skips auditing and hit counting.
 */
import { Errno } from "@hmx/proto/abi";
import type { Logger } from "pino";

import type { ArgoMac } from "../argo/mac.js";
import type { Domain } from "../domain/domain.js";
import type { Audit } from "./audit.js";
import { AccessVectorCache, type AvcStats } from "./avc.js";
import { DomainSecurity } from "./domain-security.js";
import {
  Firewall,
  type EndpointMatch,
  type FirewallRule,
  type FirewallRuleSpec,
  type FirewallVerdict,
} from "./firewall.js";
import { FlaskModule } from "./flask.js";
import { ArgoPerm, PERM_NAMES, XEN_TYPE, type MacSubject } from "./permissions.js";
import type { CompiledPolicy } from "./policy.js";
import { siloModule } from "./silo.js";
import { dummyModule, type XsmModule, type XsmModuleName } from "./xsm-module.js";

export type FlaskMode = "enforcing" | "permissive";
/** Modes, for checking values that come from outside the type system. */
const FLASK_MODES: ReadonlySet<string> = new Set(["enforcing", "permissive"]);

/** A policy in force. */
export interface LoadedPolicy {
  readonly policy: CompiledPolicy;
  /** 1 for the first load, +1 per load. */
  readonly generation: number;
  readonly loadedAt: Date;
}

/** Everything a decision depends on; replaced whole, never mutated. */
interface MacState {
  readonly module: XsmModule;
  readonly flaskMode: FlaskMode;
  readonly loaded: LoadedPolicy | null;
  readonly firewall: Firewall;
}

export interface MacControllerOptions {
  readonly module: XsmModuleName;
  /** The boot policy (flask only). */
  readonly policy?: CompiledPolicy;
  readonly flaskMode?: FlaskMode;
  readonly firewallDefault?: FirewallVerdict;
  /** `--argo-mac-permissive`, for the what-if of `register_any_source`. */
  readonly macPermissive?: boolean;
  readonly audit: Audit;
  readonly log?: Logger;
}

/** A MAC administration request that cannot apply in the current configuration. */
export class MacError extends Error {
  override readonly name = "MacError";
  constructor(
    readonly kind: "precondition" | "invalid",
    message: string,
  ) {
    super(message);
  }
}

/** One hook on the path of a what-if query. */
export interface AccessStep {
  /** `enable`, `register_single_source`, `register_any_source`, `send`, `firewall` or `mac-permissive`. */
  readonly hook: string;
  /** `dummy`, `flask`, `silo`, `firewall` or `argo` (the mac-permissive boot option). */
  readonly module: string;
  /** What the hook returns to the hypercall. */
  readonly ret: number;
  /** Flask permissive mode turned a denial into 0. */
  readonly permissiveOverride: boolean;
  /** The deciding rule (with location) or reason. */
  readonly rule: string;
}

/** The answer to a what-if query. */
export interface AccessCheck {
  readonly allowed: boolean;
  /** 0 or the negative errno the hypercall's MAC checks would return. */
  readonly ret: number;
  readonly steps: readonly AccessStep[];
  /** The deciding step's rule: the denying one, or the last when allowed. */
  readonly decidedBy: string;
}

/** A what-if query. */
export interface AccessQuery {
  readonly source: MacSubject;
  /** Ring owner (send) or partner (register_single_source); null for Xen-targeted permissions. */
  readonly target: MacSubject | null;
  readonly permission: ArgoPerm;
  readonly srcPort: number;
  readonly dstPort: number;
}

/** The XSM module's answer (before the Flask mode). Shared by enforcement and what-if. */
function decideXsm(
  state: MacState,
  perm: ArgoPerm,
  subject: MacSubject,
  target: MacSubject | null,
): number {
  return state.module.check(perm, subject, target);
}

/** Whether a denial is only logged: Flask in permissive mode. */
function isPermissive(state: MacState): boolean {
  return state.module.name === "flask" && state.flaskMode === "permissive";
}

/** The firewall's deciding rule (undefined: the default verdict) and the hook's return value. */
function decideFirewall(fw: Firewall, rule: FirewallRule | undefined): number {
  return (rule?.verdict ?? fw.defaultVerdict) === "reject" ? -Errno.EPERM : 0;
}

function firewallReason(fw: Firewall, rule: FirewallRule | undefined, position: number): string {
  return rule === undefined
    ? `firewall default ${fw.defaultVerdict.toUpperCase()}`
    : `firewall rule ${position} (#${rule.id}): ${rule.text}`;
}

/** The domain's memo, reset if it belongs to another controller state. */
function hookMemo(d: Domain, state: MacState): DomainSecurity {
  let memo = d.ssid;
  if (memo === null) {
    memo = new DomainSecurity();
    d.ssid = memo;
  }
  if (memo.hookState !== state) {
    memo.hookState = state;
    memo.enableAllowed = false;
    memo.sendAllowedTo = null;
    memo.flowDst = null;
  }
  return memo;
}

/**
 * A change the administrator made through the toolstack, reported after it took effect so the
 * state journal can replay it in order with the hypercalls it affects (docs/state.md).
 */
export type MacChange =
  | { readonly kind: "policy"; readonly source: string; readonly fileName: string }
  | { readonly kind: "flask-mode"; readonly mode: FlaskMode }
  | { readonly kind: "firewall-add"; readonly spec: FirewallRuleSpec; readonly position: number }
  | { readonly kind: "firewall-delete"; readonly position: number }
  | {
      readonly kind: "firewall-delete-matching";
      readonly pattern: { readonly src: EndpointMatch; readonly dst: EndpointMatch };
    }
  | { readonly kind: "firewall-flush" }
  | { readonly kind: "firewall-default"; readonly verdict: FirewallVerdict };

export class MacController implements ArgoMac {
  /** Told every administrative change once it took effect (`--state-dir` journals them). */
  onChange: ((change: MacChange) => void) | undefined;
  #state: MacState;
  readonly #audit: Audit;
  readonly #log: Logger | undefined;
  readonly #macPermissive: boolean;
  readonly #avcStats: AvcStats = { lookups: 0, misses: 0, reclaims: 0 };

  constructor(options: MacControllerOptions) {
    this.#audit = options.audit;
    this.#log = options.log;
    this.#macPermissive = options.macPermissive ?? false;
    if (options.policy !== undefined && options.module !== "flask") {
      throw new MacError("precondition", `a policy needs the flask module, not ${options.module}`);
    }
    const loaded =
      options.policy === undefined
        ? null
        : { policy: options.policy, generation: 1, loadedAt: new Date() };
    this.#state = {
      module: this.#makeModule(options.module, loaded),
      flaskMode: options.flaskMode ?? "enforcing",
      loaded,
      firewall: Firewall.create(options.firewallDefault ?? "accept"),
    };
  }

  // ---- the hooks (hot path: no allocation unless denying) ----

  enable(domain: Domain): number {
    const state = this.#state;
    const memo = domain.ssid;
    if (memo !== null && memo.hookState === state && memo.enableAllowed) return 0;
    const raw = decideXsm(state, ArgoPerm.ENABLE, domain, null);
    if (raw !== 0) return this.#deny(state, ArgoPerm.ENABLE, domain, null, raw);
    hookMemo(domain, state).enableAllowed = true;
    return 0;
  }

  registerSingleSource(owner: Domain, partner: Domain): number {
    const state = this.#state;
    const raw = decideXsm(state, ArgoPerm.REGISTER_SINGLE_SOURCE, owner, partner);
    return raw === 0 ? 0 : this.#deny(state, ArgoPerm.REGISTER_SINGLE_SOURCE, owner, partner, raw);
  }

  registerAnySource(owner: Domain): number {
    const state = this.#state;
    const raw = decideXsm(state, ArgoPerm.REGISTER_ANY_SOURCE, owner, null);
    return raw === 0 ? 0 : this.#deny(state, ArgoPerm.REGISTER_ANY_SOURCE, owner, null, raw);
  }

  send(sender: Domain, ringOwner: Domain): number {
    const state = this.#state;
    const memo = sender.ssid;
    if (memo !== null && memo.hookState === state && memo.sendAllowedTo === ringOwner) return 0;
    const raw = decideXsm(state, ArgoPerm.SEND, sender, ringOwner);
    if (raw !== 0) return this.#deny(state, ArgoPerm.SEND, sender, ringOwner, raw);
    hookMemo(sender, state).sendAllowedTo = ringOwner;
    return 0;
  }

  firewall(sender: Domain, srcAport: number, ringOwner: Domain, dstAport: number): number {
    const state = this.#state;
    const fw = state.firewall;
    if (fw.isOpen) return 0;
    // A stream between the same endpoints costs four comparisons (memo of fw.match).
    let rule: FirewallRule | undefined;
    const memo = sender.ssid;
    if (
      memo !== null &&
      memo.hookState === state &&
      memo.flowDst === ringOwner &&
      memo.flowSrcPort === srcAport &&
      memo.flowDstPort === dstAport
    ) {
      rule = memo.flowRule;
    } else {
      rule = fw.match(sender, srcAport, ringOwner, dstAport);
      const m = hookMemo(sender, state);
      m.flowDst = ringOwner;
      m.flowSrcPort = srcAport;
      m.flowDstPort = dstAport;
      m.flowRule = rule;
    }
    (rule?.counter ?? fw.defaultCounter).hits++;
    const ret = decideFirewall(fw, rule);
    if (ret !== 0) {
      const position = rule === undefined ? 0 : fw.rules.indexOf(rule) + 1;
      this.#audit.record({
        module: "firewall",
        permission: "send",
        scontext: sender.label,
        tcontext: ringOwner.label,
        sourceDomid: sender.domid,
        targetDomid: ringOwner.domid,
        ports: { src: srcAport, dst: dstAport },
        rule: firewallReason(fw, rule, position),
        ruleKey: rule === undefined ? "firewall:default" : `firewall#${rule.id}`,
        ret,
        permissive: false,
      });
    }
    return ret;
  }

  /** An XSM denial: audited, then returned (or turned into 0 by Flask's permissive mode). */
  #deny(
    state: MacState,
    perm: ArgoPerm,
    subject: Domain,
    target: Domain | null,
    raw: number,
  ): number {
    const permissive = isPermissive(state);
    const ret = permissive ? 0 : raw;
    this.#auditXsm(state, perm, subject, target, ret, permissive);
    return ret;
  }

  #auditXsm(
    state: MacState,
    perm: ArgoPerm,
    subject: MacSubject,
    target: MacSubject | null,
    ret: number,
    permissive: boolean,
  ): void {
    const module = state.module;
    const name = module.name === "silo" ? "silo" : "flask";
    const rule = module.explain(perm, subject, target);
    let ruleKey = `silo:isolation`;
    if (module instanceof FlaskModule) {
      const { stype, ttype } = module.types(subject, target);
      ruleKey = `flask:no-allow ${stype} ${ttype}:argo ${PERM_NAMES[perm]}`;
    }
    this.#audit.record({
      module: name,
      permission: PERM_NAMES[perm],
      scontext: subject.label,
      tcontext: target?.label ?? XEN_TYPE,
      sourceDomid: subject.domid,
      targetDomid: target?.domid ?? 0,
      ports: null,
      rule,
      ruleKey,
      ret,
      permissive,
    });
  }

  // ---- what-if ----

  /** Would the query's call pass its MAC checks, and which hook and rule decided. */
  checkAccess(q: AccessQuery): AccessCheck {
    const state = this.#state;
    const steps: AccessStep[] = [];
    const xsmStep = (perm: ArgoPerm, target: MacSubject | null): number => {
      const raw = decideXsm(state, perm, q.source, target);
      const override = raw !== 0 && isPermissive(state);
      const ret = override ? 0 : raw;
      steps.push({
        hook: PERM_NAMES[perm],
        module: state.module.name,
        ret,
        permissiveOverride: override,
        rule: state.module.explain(perm, q.source, target),
      });
      return ret;
    };
    const finish = (): AccessCheck => {
      const last = steps[steps.length - 1];
      const ret = last?.ret ?? 0;
      return { allowed: ret === 0, ret, steps, decidedBy: last?.rule ?? "" };
    };

    if (xsmStep(ArgoPerm.ENABLE, null) !== 0) return finish();
    switch (q.permission) {
      case ArgoPerm.ENABLE:
        break;
      case ArgoPerm.REGISTER_ANY_SOURCE:
        if (!this.#macPermissive) {
          steps.push({
            hook: "mac-permissive",
            module: "argo",
            ret: -Errno.EPERM,
            permissiveOverride: false,
            rule: "wildcard rings need --argo-mac-permissive (Xen argo=mac-permissive)",
          });
          break;
        }
        xsmStep(ArgoPerm.REGISTER_ANY_SOURCE, null);
        break;
      case ArgoPerm.REGISTER_SINGLE_SOURCE:
      case ArgoPerm.SEND: {
        if (q.target === null)
          throw new MacError("invalid", `${PERM_NAMES[q.permission]} needs a target domain`);
        if (xsmStep(q.permission, q.target) !== 0 || q.permission !== ArgoPerm.SEND) break;
        const fw = state.firewall;
        const rule = fw.isOpen ? undefined : fw.match(q.source, q.srcPort, q.target, q.dstPort);
        const position = rule === undefined ? 0 : fw.rules.indexOf(rule) + 1;
        steps.push({
          hook: "firewall",
          module: "firewall",
          ret: decideFirewall(fw, rule),
          permissiveOverride: false,
          rule: firewallReason(fw, rule, position),
        });
        break;
      }
    }
    return finish();
  }

  // ---- administration ----

  /** The boot-time module. */
  get moduleName(): XsmModuleName {
    return this.#state.module.name;
  }

  get flaskMode(): FlaskMode {
    return this.#state.flaskMode;
  }

  /** The policy in force, or null. */
  get loaded(): LoadedPolicy | null {
    return this.#state.loaded;
  }

  get firewallTable(): Firewall {
    return this.#state.firewall;
  }

  get audit(): Audit {
    return this.#audit;
  }

  get avcStats(): Readonly<AvcStats> {
    return this.#avcStats;
  }

  /**
   * Swaps in a compiled policy and a fresh AVC in one assignment. Only under flask (Xen has no
   * policy to load otherwise).
   */
  loadPolicy(policy: CompiledPolicy): LoadedPolicy {
    const state = this.#state;
    if (state.module.name !== "flask") {
      throw new MacError(
        "precondition",
        `the XSM module is ${state.module.name}; policies need --xsm flask`,
      );
    }
    const loaded: LoadedPolicy = {
      policy,
      generation: (state.loaded?.generation ?? 0) + 1,
      loadedAt: new Date(),
    };
    this.#state = { ...state, module: this.#makeModule("flask", loaded), loaded };
    this.onChange?.({ kind: "policy", source: policy.source, fileName: policy.fileName });
    this.#log?.info(
      {
        file: policy.fileName,
        sha256: policy.sha256,
        generation: loaded.generation,
        types: policy.typeCount,
        rules: policy.rules.length,
      },
      "policy loaded",
    );
    return loaded;
  }

  /** `xl setenforce`. */
  setFlaskMode(mode: FlaskMode): void {
    if (!FLASK_MODES.has(mode))
      throw new MacError(
        "invalid",
        `flask mode ${JSON.stringify(mode)} is not enforcing or permissive`,
      );
    if (this.#state.module.name !== "flask") {
      throw new MacError(
        "precondition",
        `the XSM module is ${this.#state.module.name}; the flask mode needs --xsm flask`,
      );
    }
    this.#state = { ...this.#state, flaskMode: mode };
    this.onChange?.({ kind: "flask-mode", mode });
    this.#log?.info({ mode }, "flask mode set");
  }

  addFirewallRule(spec: FirewallRuleSpec, position = 0): { rule: FirewallRule; position: number } {
    const { firewall, rule, position: at } = this.#state.firewall.insert(spec, position);
    this.#state = { ...this.#state, firewall };
    this.onChange?.({ kind: "firewall-add", spec, position });
    this.#log?.info({ position: at, id: rule.id, rule: rule.text }, "firewall rule added");
    return { rule, position: at };
  }

  deleteFirewallRuleAt(position: number): FirewallRule {
    const { firewall, removed } = this.#state.firewall.deleteAt(position);
    this.#state = { ...this.#state, firewall };
    this.onChange?.({ kind: "firewall-delete", position });
    this.#log?.info({ position, id: removed.id, rule: removed.text }, "firewall rule deleted");
    return removed;
  }

  deleteFirewallRuleMatching(pattern: {
    readonly src: EndpointMatch;
    readonly dst: EndpointMatch;
  }): FirewallRule {
    const { firewall, removed } = this.#state.firewall.deleteMatching(pattern);
    this.#state = { ...this.#state, firewall };
    this.onChange?.({ kind: "firewall-delete-matching", pattern });
    this.#log?.info({ id: removed.id, rule: removed.text }, "firewall rule deleted");
    return removed;
  }

  flushFirewall(): number {
    const removed = this.#state.firewall.rules.length;
    this.#state = { ...this.#state, firewall: this.#state.firewall.flush() };
    this.onChange?.({ kind: "firewall-flush" });
    this.#log?.info({ removed }, "firewall flushed");
    return removed;
  }

  setFirewallDefault(verdict: FirewallVerdict): void {
    this.#state = { ...this.#state, firewall: this.#state.firewall.withDefault(verdict) };
    this.onChange?.({ kind: "firewall-default", verdict });
    this.#log?.info({ verdict }, "firewall default set");
  }

  #makeModule(name: XsmModuleName, loaded: LoadedPolicy | null): XsmModule {
    switch (name) {
      case "dummy":
        return dummyModule;
      case "silo":
        return siloModule;
      case "flask":
        return new FlaskModule(
          loaded === null ? null : new AccessVectorCache(loaded.policy, this.#avcStats),
        );
    }
  }
}
