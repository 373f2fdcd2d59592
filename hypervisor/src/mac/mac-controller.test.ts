// SPDX-License-Identifier: Apache-2.0
/**
 * The MAC controller wired into the real Argo core: every XSM hook at every Xen call site,
 * allowed and denied, under the flask (enforcing and permissive), silo and dummy modules; the
 * firewall layered after `send` on sendv only; audit records; atomic reloads and the AVC
 * flush; and the what-if query agreeing with enforcement.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ARGO_DOMID_ANY, ArgoRingFlag, Errno } from "@hmx/proto/abi";

import { at, registerRing, send } from "../test-utils/argo-harness.js";
import { createMacHarness, policyOf, type MacHarness } from "../test-utils/mac-harness.js";
import { ArgoPerm } from "./permissions.js";

const { EACCES, EPERM, ECONNREFUSED } = Errno;

const POLICY = `
# Three guest types share an attribute; off_t may not even enable Argo.
attribute domain_type;
type a_t, domain_type;
type b_t, domain_type;
type c_t, domain_type;
type off_t;
allow domain_type xen_t:argo enable;
allow a_t xen_t:argo register_any_source;
allow a_t b_t:argo { send register_single_source };
allow b_t a_t:argo { send register_single_source };
allow domain_type self:argo { send register_single_source };
allow c_t a_t:argo register_single_source;
`;

const LABELS = [{ label: "a_t" }, { label: "b_t" }, { label: "c_t" }];

function flask(extra: Partial<Parameters<typeof createMacHarness>[0]> = {}): MacHarness {
  return createMacHarness({ module: "flask", policy: POLICY, domains: LABELS, ...extra });
}

/** Ring (owner, aport 1, partner) of 256 bytes; returns the ret. */
function ring(h: MacHarness, owner: number, partnerId: number, aport = 1): number {
  return registerRing(h, at(h.doms, owner), { aport, partnerId, len: 256 }).ret;
}

function sendTo(h: MacHarness, from: number, to: number, aport = 1, srcAport = 0): number {
  return send(
    h,
    at(h.doms, from),
    { domainId: at(h.doms, to).domid, aport },
    Buffer.from("hello"),
    { srcAport },
  );
}

describe("flask enable", () => {
  test("flask denies enable at domain creation: a domain whose type lacks enable gets no Argo state", () => {
    const h = createMacHarness({
      module: "flask",
      policy: POLICY,
      domains: [{ label: "a_t" }, { label: "off_t" }],
    });
    assert.notEqual(at(h.doms, 0).argo, null);
    assert.equal(at(h.doms, 1).argo, null);
    const rec = h.records.find((r) => r.permission === "enable");
    assert.equal(rec?.scontext, "off_t");
    assert.equal(rec.tcontext, "xen_t");
    assert.equal(rec.sourceDomid, 2);
    assert.equal(rec.ret, -EACCES);
  });

  test("flask denies enable at the top of every hypercall with -EACCES", () => {
    const h = flask();
    assert.equal(ring(h, 0, 2), 0);
    h.mac.loadPolicy(policyOf(POLICY.replace("allow domain_type xen_t:argo enable;", "")));
    const a = at(h.doms, 0);
    assert.equal(ring(h, 0, 2, 9), -EACCES);
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), -EACCES);
    assert.equal(sendTo(h, 0, 1), -EACCES);
    assert.equal(h.argo.notify(a, null).ret, -EACCES);
    assert.equal(h.records.filter((r) => r.permission === "enable").length, 4);
  });

  test("flask allows enable with an allow rule to xen_t", () => {
    const h = flask();
    assert.equal(h.argo.notify(at(h.doms, 0), null).ret, 0);
    assert.equal(h.records.length, 0);
  });
});

describe("flask register_single_source and register_any_source", () => {
  test("flask allows register_single_source with an allow rule", () => {
    const h = flask();
    assert.equal(ring(h, 0, 2), 0);
  });

  test("flask denies register_single_source without an allow rule with -EACCES", () => {
    const h = flask();
    assert.equal(ring(h, 0, 3), -EACCES);
    const rec = h.records.at(-1);
    assert.equal(rec?.permission, "register_single_source");
    assert.equal(rec.scontext, "a_t");
    assert.equal(rec.tcontext, "c_t");
    assert.equal(rec.targetDomid, 3);
    assert.match(
      rec.text,
      /^avc: denied \{ register_single_source \} for sdomid=1 tdomid=3 scontext=a_t tcontext=c_t tclass=argo permissive=0/,
    );
  });

  test("flask allows register_single_source to self through 'self'", () => {
    const h = flask();
    assert.equal(ring(h, 2, 3), 0);
  });

  test("a wildcard ring is -EPERM under strict mac-permissive before flask is asked", () => {
    const h = flask();
    assert.equal(ring(h, 0, ARGO_DOMID_ANY), -EPERM);
    assert.equal(h.records.length, 0);
  });

  test("flask allows register_any_source with an allow rule when mac-permissive is on", () => {
    const h = flask({ macPermissive: true });
    assert.equal(ring(h, 0, ARGO_DOMID_ANY), 0);
  });

  test("flask denies register_any_source without an allow rule with -EACCES when mac-permissive is on", () => {
    const h = flask({ macPermissive: true });
    assert.equal(ring(h, 1, ARGO_DOMID_ANY), -EACCES);
    assert.equal(h.records.at(-1)?.permission, "register_any_source");
    assert.equal(h.records.at(-1)?.tcontext, "xen_t");
  });
});

describe("flask send", () => {
  test("flask allows send with an allow rule", () => {
    const h = flask();
    assert.equal(ring(h, 1, 1), 0);
    assert.equal(sendTo(h, 0, 1), 5);
  });

  test("flask denies send without an allow rule with -EACCES", () => {
    const h = flask();
    assert.equal(ring(h, 2, 1), 0);
    assert.equal(sendTo(h, 0, 2), -EACCES);
    const rec = h.records.at(-1);
    assert.equal(rec?.permission, "send");
    assert.equal(rec.module, "flask");
    assert.match(rec.rule, /no allow rule grants a_t c_t:argo send/);
  });

  test("flask denies send to a wildcard ring's owner like any other", () => {
    const h = createMacHarness({
      module: "flask",
      policy: POLICY + "allow c_t xen_t:argo register_any_source;",
      domains: LABELS,
      macPermissive: true,
    });
    assert.equal(ring(h, 2, ARGO_DOMID_ANY), 0);
    assert.equal(sendTo(h, 0, 2), -EACCES);
    assert.equal(sendTo(h, 2, 2), 5);
  });

  test("notify does not describe rings the caller may not send to: flask -EACCES stops at that entry", () => {
    const h = flask();
    assert.equal(ring(h, 1, 1), 0);
    assert.equal(ring(h, 2, 1), 0);
    const a = at(h.doms, 0);
    const r = h.argo.notify(a, [
      { ring: { domainId: 2, aport: 1 }, spaceRequired: 0 },
      { ring: { domainId: 3, aport: 1 }, spaceRequired: 0 },
      { ring: { domainId: 2, aport: 1 }, spaceRequired: 0 },
    ]);
    assert.equal(r.ret, -EACCES);
    assert.equal(r.entries.length, 1);
    assert.equal((at(r.entries, 0).flags & ArgoRingFlag.EXISTS) !== 0, true);
    assert.equal(h.records.at(-1)?.permission, "send");
  });
});

describe("flask permissive mode", () => {
  test("flask permissive logs each denial and allows the call (distinct from mac-permissive)", () => {
    const h = flask({ flaskMode: "permissive" });
    assert.equal(ring(h, 0, 3), 0);
    assert.equal(ring(h, 2, 1), 0);
    assert.equal(sendTo(h, 0, 2), 5);
    assert.equal(ring(h, 0, ARGO_DOMID_ANY, 5), -EPERM, "mac-permissive is still off");
    const denials = h.records.map((r) => [r.permission, r.permissive, r.ret]);
    assert.deepEqual(denials, [
      ["register_single_source", true, 0],
      ["send", true, 0],
    ]);
    assert.match(h.records.at(-1)?.text ?? "", /permissive=1/);
  });

  test("a domain created under flask permissive gets Argo state although enable is denied", () => {
    const h = createMacHarness({
      module: "flask",
      policy: POLICY,
      flaskMode: "permissive",
      domains: [{ label: "off_t" }],
    });
    assert.notEqual(at(h.doms, 0).argo, null);
    assert.equal(h.records.at(-1)?.permission, "enable");
  });

  test("switching flask to enforcing makes the same call fail", () => {
    const h = flask({ flaskMode: "permissive" });
    assert.equal(ring(h, 2, 1), 0);
    assert.equal(sendTo(h, 0, 2), 5);
    h.mac.setFlaskMode("enforcing");
    assert.equal(sendTo(h, 0, 2), -EACCES);
  });
});

describe("flask without a policy", () => {
  test("flask with no policy loaded allows everything, as Xen before its first load", () => {
    const h = createMacHarness({ module: "flask", domains: LABELS });
    assert.equal(ring(h, 2, 1), 0);
    assert.equal(sendTo(h, 0, 2), 5);
    assert.equal(h.records.length, 0);
  });
});

describe("silo", () => {
  const SILO = [{ label: "a_t" }, { label: "b_t" }, { label: "dom0_t", privileged: true }];

  test("silo denies send between two unprivileged domains with -EPERM", () => {
    const h = createMacHarness({ module: "silo", domains: SILO });
    assert.equal(ring(h, 1, 1), -EPERM, "register_single_source is checked too");
    const h2 = createMacHarness({ module: "silo", domains: SILO });
    assert.equal(ring(h2, 1, 3), 0);
    assert.equal(sendTo(h2, 0, 1), -EPERM);
    assert.equal(h2.records.at(-1)?.module, "silo");
    assert.equal(h2.records.at(-1)?.permission, "send");
  });

  test("silo denies register_single_source between two unprivileged domains with -EPERM", () => {
    const h = createMacHarness({ module: "silo", domains: SILO });
    assert.equal(ring(h, 0, 2), -EPERM);
    assert.equal(h.records.at(-1)?.permission, "register_single_source");
  });

  test("silo allows register_single_source and send when either domain is the control domain", () => {
    const h = createMacHarness({ module: "silo", domains: SILO });
    assert.equal(ring(h, 0, 3), 0);
    assert.equal(ring(h, 2, 2), 0);
    assert.equal(sendTo(h, 2, 0), 5);
    assert.equal(sendTo(h, 1, 2), 5);
  });

  test("silo allows a domain to talk to itself", () => {
    const h = createMacHarness({ module: "silo", domains: SILO });
    assert.equal(ring(h, 0, 1), 0);
    assert.equal(sendTo(h, 0, 0), 5);
  });

  test("silo allows enable and register_any_source (dummy behaviour)", () => {
    const h = createMacHarness({ module: "silo", domains: SILO, macPermissive: true });
    assert.ok(h.doms.every((d) => d.argo !== null));
    assert.equal(ring(h, 0, ARGO_DOMID_ANY), 0);
    assert.equal(h.records.length, 0);
  });

  test("silo: notify stops with -EPERM at an entry for a domain the caller may not send to", () => {
    const h = createMacHarness({ module: "silo", domains: SILO });
    const r = h.argo.notify(at(h.doms, 0), [
      { ring: { domainId: 3, aport: 1 }, spaceRequired: 0 },
      { ring: { domainId: 2, aport: 1 }, spaceRequired: 0 },
    ]);
    assert.equal(r.ret, -EPERM);
    assert.equal(r.entries.length, 1);
  });
});

describe("dummy", () => {
  test("dummy allows every hook and audits nothing", () => {
    const h = createMacHarness({ module: "dummy", domains: LABELS, macPermissive: true });
    assert.equal(ring(h, 0, 3), 0);
    assert.equal(ring(h, 1, ARGO_DOMID_ANY), 0);
    assert.equal(sendTo(h, 2, 0), 5);
    assert.equal(h.records.length, 0);
  });
});

describe("firewall on sendv", () => {
  test("a firewall REJECT fails sendv with -EPERM after xsm send allowed it", () => {
    const h = createMacHarness({ module: "dummy", domains: LABELS });
    assert.equal(ring(h, 1, 1), 0);
    h.mac.addFirewallRule({
      src: { domain: { kind: "label", label: "a_t" }, port: null },
      dst: { domain: { kind: "any" }, port: 1 },
      verdict: "reject",
    });
    assert.equal(sendTo(h, 0, 1), -EPERM);
    const rec = h.records.at(-1);
    assert.equal(rec?.module, "firewall");
    assert.deepEqual(rec.ports, { src: 0, dst: 1 });
    assert.match(
      rec.text,
      /sport=0 dport=1 .*rule="firewall rule 1 \(#1\): -d a_t -q 1 -j REJECT"/,
    );
  });

  test("the firewall is not consulted when xsm send denies", () => {
    const h = flask();
    assert.equal(ring(h, 2, 1), 0);
    h.mac.addFirewallRule({
      src: { domain: { kind: "any" }, port: null },
      dst: { domain: { kind: "any" }, port: null },
      verdict: "reject",
    });
    assert.equal(sendTo(h, 0, 2), -EACCES);
    assert.equal(h.records.length, 1);
    assert.equal(h.records[0]?.module, "flask");
    assert.equal(at(h.mac.firewallTable.rules, 0).counter.hits, 0);
  });

  test("the firewall rejects before the ring lookup (-EPERM even with no ring)", () => {
    const h = createMacHarness({ module: "dummy", domains: LABELS, firewallDefault: "reject" });
    assert.equal(sendTo(h, 0, 1, 77), -EPERM);
    assert.equal(h.records.at(-1)?.rule, "firewall default REJECT");
  });

  test("the firewall applies to sendv only, not to register_ring or notify", () => {
    const h = createMacHarness({ module: "dummy", domains: LABELS, firewallDefault: "reject" });
    assert.equal(ring(h, 1, 1), 0);
    const r = h.argo.notify(at(h.doms, 0), [{ ring: { domainId: 2, aport: 1 }, spaceRequired: 0 }]);
    assert.equal(r.ret, 0);
    assert.equal((at(r.entries, 0).flags & ArgoRingFlag.EXISTS) !== 0, true);
    assert.equal(sendTo(h, 0, 1), -EPERM);
  });

  test("firewall rules match the source port as the sender wrote it (unauthenticated)", () => {
    const h = createMacHarness({ module: "dummy", domains: LABELS });
    assert.equal(ring(h, 1, 1), 0);
    h.mac.addFirewallRule({
      src: { domain: { kind: "any" }, port: 22 },
      dst: { domain: { kind: "any" }, port: null },
      verdict: "reject",
    });
    assert.equal(sendTo(h, 0, 1, 1, 22), -EPERM);
    assert.equal(sendTo(h, 0, 1, 1, 23), 5, "a sender picks any src.aport it likes");
  });

  test("a firewall change applies to the very next message of a flow already allowed", () => {
    const h = createMacHarness({ module: "dummy", domains: LABELS });
    assert.equal(ring(h, 1, 1), 0);
    assert.equal(sendTo(h, 0, 1), 5);
    assert.equal(sendTo(h, 0, 1), 5);
    h.mac.addFirewallRule(
      {
        src: { domain: { kind: "any" }, port: null },
        dst: { domain: { kind: "any" }, port: 1 },
        verdict: "reject",
      },
      1,
    );
    assert.equal(sendTo(h, 0, 1), -EPERM);
    h.mac.deleteFirewallRuleAt(1);
    assert.equal(sendTo(h, 0, 1), 5);
  });

  test("firewall rule hits and default hits are counted on enforcement only", () => {
    const h = createMacHarness({ module: "dummy", domains: LABELS });
    assert.equal(ring(h, 1, 1), 0);
    h.mac.addFirewallRule({
      src: { domain: { kind: "domid", domid: 1 }, port: null },
      dst: { domain: { kind: "any" }, port: 1 },
      verdict: "accept",
    });
    assert.equal(sendTo(h, 0, 1), 5);
    assert.equal(sendTo(h, 2, 1), -ECONNREFUSED);
    h.mac.checkAccess({
      source: at(h.doms, 0),
      target: at(h.doms, 1),
      permission: ArgoPerm.SEND,
      srcPort: 0,
      dstPort: 1,
    });
    assert.equal(at(h.mac.firewallTable.rules, 0).counter.hits, 1);
    assert.equal(h.mac.firewallTable.defaultCounter.hits, 1);
  });
});

describe("policy reload", () => {
  test("a policy load flushes the AVC: a cached allow becomes a deny on the next call", () => {
    const h = flask();
    assert.equal(ring(h, 1, 1), 0);
    assert.equal(sendTo(h, 0, 1), 5);
    assert.equal(sendTo(h, 0, 1), 5);
    h.mac.loadPolicy(
      policyOf(POLICY.replace("allow a_t b_t:argo { send register_single_source };", "")),
    );
    assert.equal(sendTo(h, 0, 1), -EACCES);
    assert.equal(h.mac.loaded?.generation, 2);
  });

  test("loadPolicy is refused under silo and dummy (FAILED_PRECONDITION)", () => {
    for (const module of ["silo", "dummy"] as const) {
      const h = createMacHarness({ module, domains: LABELS });
      assert.throws(() => h.mac.loadPolicy(policyOf(POLICY)), /policies need --xsm flask/);
      assert.throws(() => {
        h.mac.setFlaskMode("permissive");
      }, /needs --xsm flask/);
    }
  });

  test("the AVC and the d->ssid memo cache decisions: repeated sends look up without recomputing", () => {
    const h = flask();
    assert.equal(ring(h, 1, 1), 0);
    for (let i = 0; i < 10; i++) sendTo(h, 0, 1);
    const s = h.mac.avcStats;
    assert.ok(s.misses <= 6, `misses ${s.misses}`);
    assert.ok(s.lookups <= 10, `lookups ${s.lookups}: the d->ssid memo answers repeats`);
  });
});

describe("what-if", () => {
  test("checkAccess names the deciding allow rule with its location", () => {
    const h = flask();
    const r = h.mac.checkAccess({
      source: at(h.doms, 0),
      target: at(h.doms, 1),
      permission: ArgoPerm.SEND,
      srcPort: 0,
      dstPort: 1,
    });
    assert.equal(r.allowed, true);
    assert.deepEqual(
      r.steps.map((s) => s.hook),
      ["enable", "send", "firewall"],
    );
    assert.equal(
      r.steps[1]?.rule,
      "test.te:10:1: allow a_t b_t:argo { send register_single_source };",
    );
    assert.equal(r.decidedBy, "firewall default ACCEPT");
  });

  test("checkAccess stops at the denying hook and does not audit", () => {
    const h = flask();
    const r = h.mac.checkAccess({
      source: at(h.doms, 0),
      target: at(h.doms, 2),
      permission: ArgoPerm.SEND,
      srcPort: 0,
      dstPort: 1,
    });
    assert.equal(r.ret, -EACCES);
    assert.deepEqual(
      r.steps.map((s) => s.hook),
      ["enable", "send"],
    );
    assert.equal(h.records.length, 0);
  });

  test("checkAccess answers for hypothetical labels and for register_any_source under strict mac-permissive", () => {
    const h = flask();
    const r = h.mac.checkAccess({
      source: { domid: 0, label: "b_t", privileged: false },
      target: { domid: 0, label: "a_t", privileged: false },
      permission: ArgoPerm.SEND,
      srcPort: 0,
      dstPort: 0,
    });
    assert.equal(r.allowed, true);
    const w = h.mac.checkAccess({
      source: at(h.doms, 0),
      target: null,
      permission: ArgoPerm.REGISTER_ANY_SOURCE,
      srcPort: 0,
      dstPort: 0,
    });
    assert.equal(w.ret, -EPERM);
    assert.equal(w.steps.at(-1)?.hook, "mac-permissive");
  });

  test("checkAccess reports a flask permissive override", () => {
    const h = flask({ flaskMode: "permissive" });
    const r = h.mac.checkAccess({
      source: at(h.doms, 0),
      target: at(h.doms, 2),
      permission: ArgoPerm.SEND,
      srcPort: 0,
      dstPort: 1,
    });
    assert.equal(r.allowed, true);
    assert.equal(r.steps[1]?.permissiveOverride, true);
  });
});
