// SPDX-License-Identifier: Apache-2.0
/**
 * Policy compilation (checkpolicy's job) and `security_compute_av`: name resolution, attributes,
 * `self`, complements, built-in types, neverallow assertions, errors with positions, and the
 * first granting rule per permission; plus the AVC (caching and bounded reclaim).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { policyOf } from "../test-utils/mac-harness.js";
import { AccessVectorCache } from "./avc.js";
import { ArgoPerm, typeOfLabel } from "./permissions.js";
import { formatDiagnostic } from "./policy-parser.js";
import { compilePolicy, MAX_POLICY_BYTES, type CompiledPolicy } from "./policy.js";

function errorsOf(source: string): string[] {
  const r = compilePolicy(source, "p.te");
  return r.ok ? [] : r.errors.map(formatDiagnostic);
}

function allowed(p: CompiledPolicy, s: string, t: string): number {
  const ssid = p.sidOfType(s);
  const tsid = p.sidOfType(t);
  assert.ok(ssid !== undefined && tsid !== undefined);
  return p.computeAv(ssid, tsid).allowed;
}

const { ENABLE, REGISTER_SINGLE_SOURCE, REGISTER_ANY_SOURCE, SEND } = ArgoPerm;

describe("labels and types", () => {
  test("a label's type is the third field of user:role:type[:level], else the label", () => {
    assert.equal(typeOfLabel("client_t"), "client_t");
    assert.equal(typeOfLabel("system_u:system_r:domU_t"), "domU_t");
    assert.equal(typeOfLabel("system_u:system_r:domU_t:s0"), "domU_t");
    assert.equal(typeOfLabel("a:b"), "a:b");
  });

  test("a label naming no declared type runs as unlabeled_t", () => {
    const p = policyOf("type a_t;");
    assert.equal(p.sidOfLabel("nope_t"), p.unlabeledSid);
    assert.equal(p.typeNames[p.sidOfLabel("u:r:a_t")], "a_t");
  });

  test("xen_t and unlabeled_t are built in and may be declared again", () => {
    const p = policyOf("type xen_t; type unlabeled_t; allow unlabeled_t xen_t:argo enable;");
    assert.equal(allowed(p, "unlabeled_t", "xen_t"), ENABLE);
    assert.equal(p.typeCount, 2);
  });
});

describe("allow rules", () => {
  test("attributes expand to their member types, declared in any order", () => {
    const p = policyOf(
      "allow dom xen_t:argo enable; type a_t, dom; type b_t; typeattribute b_t dom; attribute dom;",
    );
    assert.equal(allowed(p, "a_t", "xen_t"), ENABLE);
    assert.equal(allowed(p, "b_t", "xen_t"), ENABLE);
  });

  test("self grants a type access to itself only", () => {
    const p = policyOf("attribute d; type a_t, d; type b_t, d; allow d self:argo send;");
    assert.equal(allowed(p, "a_t", "a_t"), SEND);
    assert.equal(allowed(p, "a_t", "b_t"), 0);
  });

  test("set subtraction, complements and * work as in checkpolicy", () => {
    const p = policyOf(
      "attribute d; type a_t, d; type b_t, d; type c_t, d;\n" +
        "allow { d -b_t } c_t:argo send;\n" +
        "allow b_t ~{ a_t c_t }:argo register_single_source;\n" +
        "allow c_t *:argo ~{ send enable };",
    );
    assert.equal(allowed(p, "a_t", "c_t"), SEND);
    assert.equal(allowed(p, "b_t", "c_t"), 0);
    assert.equal(allowed(p, "b_t", "b_t"), REGISTER_SINGLE_SOURCE);
    assert.equal(allowed(p, "c_t", "a_t"), REGISTER_SINGLE_SOURCE | REGISTER_ANY_SOURCE);
  });

  test("computeAv remembers the first rule in source order granting each permission", () => {
    const p = policyOf(
      "type a_t;\nallow a_t a_t:argo send;\nallow a_t a_t:argo { send enable };\n",
    );
    const av = p.computeAv(p.sidOfType("a_t") ?? -1, p.sidOfType("a_t") ?? -1);
    assert.equal(av.rules[3]?.location, "policy.te:2:1".replace("policy", "test"));
    assert.equal(av.rules[0]?.location, "test.te:3:1");
    assert.equal(av.rules[1], undefined);
  });

  test("an empty policy denies everything", () => {
    const p = policyOf("");
    assert.equal(allowed(p, "unlabeled_t", "xen_t"), 0);
  });
});

describe("compile errors", () => {
  test("unknown names, classes and permissions are reported with positions", () => {
    assert.deepEqual(
      errorsOf(
        "type a_t;\nallow a_t b_t:argo send;\nallow a_t a_t:file read;\nallow a_t a_t:argo { sned };\ntypeattribute a_t nope;\n",
      ),
      [
        "p.te:2:11: unknown type or attribute 'b_t'",
        "p.te:3:15: unknown class 'file' (hmx policies have the single class 'argo')",
        "p.te:3:20: unknown permission 'read' of class argo (expected one of enable, register_single_source, register_any_source, send)",
        "p.te:4:22: unknown permission 'sned' of class argo (expected one of enable, register_single_source, register_any_source, send)",
        "p.te:5:19: unknown attribute 'nope'",
      ],
    );
  });

  test("duplicate declarations, clashes and reserved words are errors", () => {
    assert.deepEqual(
      errorsOf("type a_t;\ntype a_t;\nattribute a_t;\ntype self;\nattribute d;\nattribute d;\n"),
      [
        "p.te:2:6: type 'a_t' is declared twice",
        "p.te:3:11: 'a_t' is already declared as a type",
        "p.te:4:6: 'self' is a reserved word and cannot name a type",
        "p.te:6:11: attribute 'd' is declared twice",
      ],
    );
  });

  test("self in a source set is an error", () => {
    assert.deepEqual(errorsOf("allow self xen_t:argo enable;"), [
      "p.te:1:7: 'self' is allowed only in the target type set",
    ]);
  });

  test("an allow rule violating a neverallow is an error naming both", () => {
    assert.deepEqual(
      errorsOf(
        "attribute d; type a_t, d; type b_t, d;\nallow d d:argo send;\nneverallow b_t a_t:argo send;\n",
      ),
      ['p.te:3:1: neverallow violated by the allow rule at p.te:2:1 ("allow d d:argo send;")'],
    );
    assert.deepEqual(
      errorsOf("type a_t;\nallow a_t self:argo send;\nneverallow a_t a_t:argo *;\n").length,
      1,
    );
    assert.deepEqual(
      errorsOf("type a_t; type b_t;\nallow a_t b_t:argo send;\nneverallow a_t a_t:argo send;\n"),
      [],
    );
  });

  test("a policy larger than 4 MiB is rejected", () => {
    assert.match(errorsOf(" ".repeat(MAX_POLICY_BYTES + 1))[0] ?? "", /larger than/);
  });
});

describe("access vector cache", () => {
  test("the AVC computes a pair once and answers repeats from the cache", () => {
    const p = policyOf("type a_t; allow a_t a_t:argo send;");
    const avc = new AccessVectorCache(p);
    const a = p.sidOfType("a_t") ?? -1;
    const first = avc.lookup(a, a);
    assert.equal(avc.lookup(a, a), first);
    assert.deepEqual({ ...avc.stats }, { lookups: 2, misses: 1, reclaims: 0 });
  });

  test("a full AVC empties itself and keeps answering correctly", () => {
    const p = policyOf("type a_t; type b_t; allow a_t b_t:argo send;");
    const avc = new AccessVectorCache(p, undefined, 2);
    const a = p.sidOfType("a_t") ?? -1;
    const b = p.sidOfType("b_t") ?? -1;
    avc.lookup(a, a);
    avc.lookup(b, b);
    assert.equal(avc.lookup(a, b).allowed, SEND);
    assert.equal(avc.stats.reclaims, 1);
    assert.ok(avc.size <= 2);
  });
});
