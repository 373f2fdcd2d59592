// SPDX-License-Identifier: Apache-2.0
/**
 * Test harness for the MAC stack: a real `createHypervisorCore` whose `mac` is a
 * `MacController`, labelled domains, a compiled policy from inline text, and an audit log that
 * keeps every record. Test code only.
 */
import { pino } from "pino";

import { Audit, type AuditRecord } from "../mac/audit.js";
import type { FirewallVerdict } from "../mac/firewall.js";
import { MacController, type FlaskMode } from "../mac/mac-controller.js";
import { formatDiagnostic } from "../mac/policy-parser.js";
import { compilePolicy, type CompiledPolicy } from "../mac/policy.js";
import type { XsmModuleName } from "../mac/xsm-module.js";
import { createHarness, type Harness } from "./argo-harness.js";
import type { Domain } from "../domain/domain.js";

/** Compiles or throws with every diagnostic. */
export function policyOf(source: string, fileName = "test.te"): CompiledPolicy {
  const r = compilePolicy(source, fileName);
  if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join("\n"));
  return r.policy;
}

export interface MacHarnessOptions {
  readonly module: XsmModuleName;
  readonly policy?: string;
  readonly flaskMode?: FlaskMode;
  readonly firewallDefault?: FirewallVerdict;
  readonly macPermissive?: boolean;
  /** Domains to create: label and privileged flag, named d1, d2, ... */
  readonly domains: readonly { readonly label: string; readonly privileged?: boolean }[];
}

export interface MacHarness extends Harness {
  readonly mac: MacController;
  readonly records: AuditRecord[];
}

export function createMacHarness(o: MacHarnessOptions): MacHarness {
  const records: AuditRecord[] = [];
  const audit = new Audit(pino({ level: "silent" }));
  audit.subscribe((r) => records.push(r));
  const mac = new MacController({
    module: o.module,
    ...(o.policy === undefined ? {} : { policy: policyOf(o.policy) }),
    ...(o.flaskMode === undefined ? {} : { flaskMode: o.flaskMode }),
    ...(o.firewallDefault === undefined ? {} : { firewallDefault: o.firewallDefault }),
    macPermissive: o.macPermissive ?? false,
    audit,
  });
  const h = createHarness({
    domains: 0,
    mac,
    macPermissive: o.macPermissive ?? false,
    memoryBytes: 1024 * 1024,
  });
  const doms: Domain[] = h.doms;
  o.domains.forEach((d, i) => {
    doms.push(
      h.core.domains.create({
        name: `d${i + 1}`,
        label: d.label,
        memoryBytes: 1024 * 1024,
        privileged: d.privileged ?? false,
      }).domain,
    );
  });
  return { ...h, mac, records };
}
