// SPDX-License-Identifier: Apache-2.0
/**
 * The viptables-style Argo firewall: first match wins, wildcards for domain and port, labels
 * and Flask types, viptables insert positions, delete by position or by rule, flush, paging
 * (OpenXT's 8-rule pages), validation before change, and a property test holding the cached
 * matcher to a naive first-match scan.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  Firewall,
  MAX_FIREWALL_PORT,
  ruleText,
  type EndpointMatch,
  type FirewallRuleSpec,
} from "./firewall.js";
import { at } from "../test-utils/argo-harness.js";
import type { MacSubject } from "./permissions.js";

const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
console.log(`firewall properties: fast-check seed ${seed} (replay with HMX_TEST_SEED=${seed})`);

const ANY: EndpointMatch = { domain: { kind: "any" }, port: null };
const dom = (domid: number, port: number | null = null): EndpointMatch => ({
  domain: { kind: "domid", domid },
  port,
});
const lab = (label: string, port: number | null = null): EndpointMatch => ({
  domain: { kind: "label", label },
  port,
});
const port = (p: number): EndpointMatch => ({ domain: { kind: "any" }, port: p });
const rule = (
  src: EndpointMatch,
  dst: EndpointMatch,
  verdict: "accept" | "reject",
): FirewallRuleSpec => ({ src, dst, verdict });

const d1: MacSubject = { domid: 1, label: "client_t", privileged: false };
const d2: MacSubject = { domid: 2, label: "system_u:system_r:sink_t", privileged: false };
const d3: MacSubject = { domid: 3, label: "client_t", privileged: false };

function build(...specs: FirewallRuleSpec[]): Firewall {
  let fw = Firewall.create();
  for (const s of specs) fw = fw.insert(s).firewall;
  return fw;
}

function verdict(fw: Firewall, s: MacSubject, sp: number, t: MacSubject, dp: number): string {
  const r = fw.match(s, sp, t, dp);
  return r === undefined ? `default ${fw.defaultVerdict}` : `${r.id} ${r.verdict}`;
}

describe("firewall matching", () => {
  test("the first matching rule wins", () => {
    const fw = build(
      rule(dom(1), port(9), "reject"),
      rule(ANY, port(9), "accept"),
      rule(ANY, ANY, "reject"),
    );
    assert.equal(verdict(fw, d1, 0, d2, 9), "1 reject");
    assert.equal(verdict(fw, d3, 0, d2, 9), "2 accept");
    assert.equal(verdict(fw, d3, 0, d2, 7), "3 reject");
  });

  test("no matching rule takes the default verdict (accept unless configured)", () => {
    const fw = build(rule(dom(1), port(9), "reject"));
    assert.equal(verdict(fw, d3, 0, d2, 9), "default accept");
    assert.equal(verdict(fw.withDefault("reject"), d3, 0, d2, 9), "default reject");
    assert.equal(Firewall.create().isOpen, true);
    assert.equal(Firewall.create("reject").isOpen, false);
  });

  test("a label matches the whole label or its Flask type", () => {
    const fw = build(rule(lab("client_t"), lab("sink_t", 9), "reject"));
    assert.equal(verdict(fw, d1, 0, d2, 9), "1 reject");
    assert.equal(verdict(fw, d3, 0, d2, 9), "1 reject");
    const full = build(rule(ANY, lab("system_u:system_r:sink_t"), "reject"));
    assert.equal(verdict(full, d1, 5, d2, 1), "1 reject");
    assert.equal(verdict(full, d2, 5, d1, 1), "default accept");
  });

  test("a source port rule matches the port the sender wrote", () => {
    const fw = build(rule({ domain: { kind: "any" }, port: 22 }, ANY, "reject"));
    assert.equal(verdict(fw, d1, 22, d2, 1), "1 reject");
    assert.equal(verdict(fw, d1, 23, d2, 1), "default accept");
  });

  test("a domid rule never matches a hypothetical subject (domid 0)", () => {
    const fw = build(rule(dom(1), ANY, "reject"));
    assert.equal(verdict(fw, { ...d1, domid: 0 }, 0, d2, 1), "default accept");
  });
});

describe("firewall administration", () => {
  test("insert at a 1-based position; 0 or past the end appends", () => {
    let fw = build(rule(ANY, port(1), "accept"), rule(ANY, port(2), "accept"));
    const ins = fw.insert(rule(ANY, port(3), "reject"), 1);
    assert.equal(ins.position, 1);
    fw = ins.firewall;
    assert.equal(fw.insert(rule(ANY, port(4), "reject"), 99).position, 4);
    fw = fw.insert(rule(ANY, port(5), "reject"), 3).firewall;
    assert.deepEqual(
      fw.rules.map((r) => r.dst.port),
      [3, 1, 5, 2],
    );
    assert.equal(fw.insert(rule(ANY, port(6), "reject"), 0).position, 5);
  });

  test("delete by position removes the n-th rule; a missing position is not-found and changes nothing", () => {
    const fw = build(
      rule(ANY, port(1), "accept"),
      rule(ANY, port(2), "accept"),
      rule(ANY, port(3), "accept"),
    );
    const { firewall, removed } = fw.deleteAt(2);
    assert.equal(removed.dst.port, 2);
    assert.deepEqual(
      firewall.rules.map((r) => r.dst.port),
      [1, 3],
    );
    assert.throws(() => fw.deleteAt(4), /no rule at position 4 \(the firewall has 3\)/);
    assert.throws(() => fw.deleteAt(0), /no rule at position 0/);
    assert.equal(fw.rules.length, 3);
  });

  test("delete by rule removes the first rule with the same source and destination, ignoring the verdict", () => {
    const fw = build(
      rule(dom(1), port(9), "accept"),
      rule(dom(1), port(9), "reject"),
      rule(lab("a_t"), ANY, "reject"),
    );
    const { firewall, removed } = fw.deleteMatching({ src: dom(1), dst: port(9) });
    assert.equal(removed.id, 1);
    assert.equal(firewall.rules.length, 2);
    assert.throws(
      () => fw.deleteMatching({ src: dom(2), dst: port(9) }),
      /no rule matches -d 2 -q 9/,
    );
  });

  test("flush removes every rule and keeps the default verdict", () => {
    const fw = build(rule(ANY, ANY, "reject"))
      .withDefault("reject")
      .flush();
    assert.equal(fw.rules.length, 0);
    assert.equal(fw.defaultVerdict, "reject");
  });

  test("rule ids are never reused and hit counters survive renumbering", () => {
    let fw = build(rule(ANY, port(1), "accept"), rule(ANY, port(2), "accept"));
    const second = fw.rules[1];
    fw = fw.deleteAt(1).firewall;
    fw = fw.insert(rule(ANY, port(3), "accept")).firewall;
    assert.deepEqual(
      fw.rules.map((r) => r.id),
      [2, 3],
    );
    assert.equal(fw.rules[0]?.counter, second?.counter);
  });

  test("list pages like viptables_list: 8 rules by default, positions 1-based, past the end is out of range", () => {
    const fw = build(...Array.from({ length: 20 }, (_, i) => rule(ANY, port(i), "accept")));
    const pages: number[][] = [];
    for (let skip = 0; ;) {
      const page = fw.list(skip);
      pages.push(page.rules.map((r) => r.position));
      skip += page.rules.length;
      if (page.rules.length < 8) break;
    }
    assert.deepEqual(
      pages.map((p) => p.length),
      [8, 8, 4],
    );
    assert.deepEqual(pages[2], [17, 18, 19, 20]);
    assert.equal(fw.list(20).rules.length, 0);
    assert.throws(() => fw.list(21), /skip 21 is past the end/);
    assert.equal(fw.list(0, 1000).rules.length, 20);
    assert.throws(() => fw.list(0, 1001), /page size 1001/);
  });

  test("bad rules are rejected whole, naming the field, and change nothing", () => {
    const fw = build(rule(ANY, ANY, "accept"));
    assert.throws(
      () => fw.insert(rule(dom(0), ANY, "accept")),
      /source domid 0 is not in 1\.\.32751/,
    );
    assert.throws(
      () => fw.insert(rule(ANY, lab("bad label"), "accept")),
      /destination label "bad label"/,
    );
    assert.throws(
      () => fw.insert(rule(ANY, port(MAX_FIREWALL_PORT + 1), "accept")),
      /destination port 4294967295/,
    );
    assert.throws(
      () => fw.insert({ src: ANY, dst: ANY, verdict: "drop" as "accept" }),
      /verdict "drop"/,
    );
    assert.throws(() => fw.insert(rule(ANY, ANY, "accept"), -1), /position -1/);
    assert.equal(fw.rules.length, 1);
  });

  test("rule text uses viptables' flags", () => {
    assert.equal(
      ruleText(rule(dom(3, 5), lab("sink_t", 9), "reject")),
      "-d 3 -p 5 -e sink_t -q 9 -j REJECT",
    );
    assert.equal(ruleText(rule(ANY, ANY, "accept")), "-j ACCEPT");
  });
});

describe("firewall matcher property", () => {
  test("the cached matcher agrees with a naive first-match scan", () => {
    const labels = ["a_t", "b_t", "u:r:a_t"];
    const subjects: MacSubject[] = [1, 2, 3, 4].map((domid) => ({
      domid,
      label: labels[domid % 3] ?? "a_t",
      privileged: false,
    }));
    const endpoint = fc.record({
      domain: fc.oneof(
        fc.constant({ kind: "any" as const }),
        fc.integer({ min: 1, max: 4 }).map((domid) => ({ kind: "domid" as const, domid })),
        fc
          .constantFrom("a_t", "b_t", "u:r:a_t")
          .map((label) => ({ kind: "label" as const, label })),
      ),
      port: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
    });
    const spec = fc.record({
      src: endpoint,
      dst: endpoint,
      verdict: fc.constantFrom("accept" as const, "reject" as const),
    });
    const query = fc.tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
    );
    const naive = (
      fw: Firewall,
      s: MacSubject,
      sp: number,
      t: MacSubject,
      dp: number,
    ): number | undefined =>
      fw.rules.find((r) => {
        const dm = (m: EndpointMatch, x: MacSubject): boolean =>
          m.domain.kind === "any" ||
          (m.domain.kind === "domid"
            ? m.domain.domid === x.domid
            : x.label === m.domain.label || x.label.split(":")[2] === m.domain.label);
        return (
          dm(r.src, s) &&
          dm(r.dst, t) &&
          (r.src.port === null || r.src.port === sp) &&
          (r.dst.port === null || r.dst.port === dp)
        );
      })?.id;
    fc.assert(
      fc.property(
        fc.array(spec, { maxLength: 30 }),
        fc.array(query, { minLength: 1, maxLength: 40 }),
        (specs, queries) => {
          const fw = build(...specs);
          for (const [si, sp, ti, dp] of queries) {
            const s = at(subjects, si);
            const t = at(subjects, ti);
            assert.equal(fw.match(s, sp, t, dp)?.id, naive(fw, s, sp, t, dp));
          }
        },
      ),
      { numRuns: 300, seed },
    );
  });
});
