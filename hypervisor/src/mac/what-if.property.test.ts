// SPDX-License-Identifier: Apache-2.0
/**
 * The what-if query agrees with enforcement: on randomly generated policies (types,
 * attributes, allow rules with sets, `self` and `*`), firewalls, modules, Flask modes,
 * mac-permissive settings and labelled domains, `checkAccess` predicts exactly the MAC errno
 * that a real sendv or register_ring returns, and a denial is audited exactly when the query
 * says a hook denied. Bounded by count and seeded from HMX_TEST_SEED.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import { test } from "node:test";

import { ARGO_DOMID_ANY, Errno } from "@hmx/proto/abi";

import { at, registerRing, send } from "../test-utils/argo-harness.js";
import { createMacHarness } from "../test-utils/mac-harness.js";
import type { FirewallRuleSpec } from "./firewall.js";
import { ArgoPerm } from "./permissions.js";

const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
console.log(`what-if properties: fast-check seed ${seed} (replay with HMX_TEST_SEED=${seed})`);

const TYPES = ["t0", "t1", "t2", "t3"];
const PERMS = ["enable", "register_single_source", "register_any_source", "send"];
const MAC_ERRNOS = new Set([-Errno.EACCES, -Errno.EPERM]);

const typeSet = (withSelf: boolean): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...TYPES, "d", "*", "xen_t", "unlabeled_t", ...(withSelf ? ["self"] : [])),
    fc
      .uniqueArray(fc.constantFrom(...TYPES, "d"), { minLength: 1, maxLength: 3 })
      .chain((pos) =>
        fc
          .subarray(TYPES)
          .map((neg) => `{ ${pos.join(" ")} ${neg.map((n) => `-${n}`).join(" ")} }`),
      ),
  );
const permSet = fc.oneof(
  fc.constant("*"),
  fc
    .uniqueArray(fc.constantFrom(...PERMS), { minLength: 1, maxLength: 4 })
    .map((p) => `{ ${p.join(" ")} }`),
);
const allowRule = fc
  .tuple(typeSet(false), typeSet(true), permSet)
  .map(([s, t, p]) => `allow ${s} ${t}:argo ${p};`);
// Usually every type may enable Argo, so that the later hooks are reached often.
const policy = fc
  .tuple(fc.subarray(TYPES), fc.array(allowRule, { maxLength: 12 }), fc.boolean())
  .map(
    ([members, rules, enableAll]) =>
      `attribute d;\n${TYPES.map((t) => `type ${t}${members.includes(t) ? ", d" : ""};`).join("\n")}\n` +
      `${enableAll ? "allow * xen_t:argo enable;\n" : ""}${rules.join("\n")}\n`,
  );

const endpoint = fc.record({
  domain: fc.oneof(
    fc.constant({ kind: "any" as const }),
    fc.integer({ min: 1, max: 4 }).map((domid) => ({ kind: "domid" as const, domid })),
    fc.constantFrom(...TYPES).map((label) => ({ kind: "label" as const, label })),
  ),
  port: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
});
const fwRule: fc.Arbitrary<FirewallRuleSpec> = fc.record({
  src: endpoint,
  dst: endpoint,
  verdict: fc.constantFrom("accept" as const, "reject" as const),
});

// Sends dominate (and repeat flows, exercising the d->ssid memo); firewall edits and Flask mode
// switches between them check that no memoised decision outlives a change.
const request = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("send" as const),
      from: fc.nat(3),
      to: fc.nat(3),
      srcPort: fc.nat(2),
      dstPort: fc.nat(2),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("fw" as const), rule: fwRule, position: fc.nat(4) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("mode" as const), permissive: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("register" as const),
      owner: fc.nat(3),
      partner: fc.option(fc.nat(3), { nil: null }),
      aport: fc.nat(2),
    }),
  },
);

test("what-if agrees with enforcement on random policies, firewalls and requests", () => {
  const outcomes = new Map<string, number>();
  fc.assert(
    fc.property(
      fc.record({
        module: fc.constantFrom(
          "flask" as const,
          "flask" as const,
          "silo" as const,
          "dummy" as const,
        ),
        policy,
        flaskMode: fc.constantFrom("enforcing" as const, "permissive" as const),
        macPermissive: fc.boolean(),
        firewallDefault: fc.constantFrom("accept" as const, "reject" as const),
        firewall: fc.array(fwRule, { maxLength: 8 }),
        domains: fc.array(
          fc.record({
            label: fc.constantFrom(...TYPES, "u:r:t1", "stranger_t"),
            privileged: fc.boolean(),
          }),
          { minLength: 4, maxLength: 4 },
        ),
        requests: fc.array(request, { minLength: 1, maxLength: 25 }),
      }),
      (c) => {
        const h = createMacHarness({
          module: c.module,
          ...(c.module === "flask" ? { policy: c.policy, flaskMode: c.flaskMode } : {}),
          macPermissive: c.macPermissive,
          firewallDefault: c.firewallDefault,
          domains: c.domains,
        });
        for (const r of c.firewall) h.mac.addFirewallRule(r);
        for (const r of c.requests) {
          if (r.kind === "fw") {
            h.mac.addFirewallRule(r.rule, r.position);
            continue;
          }
          if (r.kind === "mode") {
            if (c.module === "flask") h.mac.setFlaskMode(r.permissive ? "permissive" : "enforcing");
            continue;
          }
          const before = h.records.length;
          let predicted;
          let actual: number;
          if (r.kind === "send") {
            const from = at(h.doms, r.from);
            const to = at(h.doms, r.to);
            predicted = h.mac.checkAccess({
              source: from,
              target: to,
              permission: ArgoPerm.SEND,
              srcPort: r.srcPort,
              dstPort: r.dstPort,
            });
            actual = send(h, from, { domainId: to.domid, aport: r.dstPort }, Buffer.from("x"), {
              srcAport: r.srcPort,
            });
          } else {
            const owner = at(h.doms, r.owner);
            const partner = r.partner === null ? null : at(h.doms, r.partner);
            predicted = h.mac.checkAccess({
              source: owner,
              target: partner,
              permission:
                partner === null ? ArgoPerm.REGISTER_ANY_SOURCE : ArgoPerm.REGISTER_SINGLE_SOURCE,
              srcPort: 0,
              dstPort: 0,
            });
            actual = registerRing(h, owner, {
              aport: r.aport,
              partnerId: partner?.domid ?? ARGO_DOMID_ANY,
              len: 256,
            }).ret;
          }
          const context = JSON.stringify({ r, predicted, actual });
          const key = `${predicted.steps.at(-1)?.hook ?? "?"} ${predicted.ret}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          if (predicted.ret !== 0) assert.equal(actual, predicted.ret, context);
          else assert.ok(!MAC_ERRNOS.has(actual), context);
          const audited = predicted.steps.some(
            (s) => (s.ret !== 0 && s.hook !== "mac-permissive") || s.permissiveOverride,
          );
          assert.equal(h.records.length > before, audited, context);
        }
      },
    ),
    { numRuns: 300, seed },
  );
  console.log(`what-if outcomes: ${JSON.stringify([...outcomes])}`);
  // The generators must reach every deciding hook, allowing and denying.
  for (const key of [
    "send -13",
    "send -1",
    "firewall 0",
    "firewall -1",
    "register_single_source -13",
    "enable -13",
    "mac-permissive -1",
  ]) {
    assert.ok(
      (outcomes.get(key) ?? 0) > 0,
      `no request ended with "${key}": ${JSON.stringify([...outcomes])}`,
    );
  }
});
