// SPDX-License-Identifier: Apache-2.0
/** `hmx viptables` argument parsing: viptables' flags, labels, and usage errors naming the bad value. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { UsageError } from "./control.js";
import { formatRules, parseViptablesArgs } from "./viptables.js";

const cmd = (...argv: string[]) => parseViptablesArgs(argv).command;

describe("hmx viptables arguments", () => {
  it("-A with client/server domains, ports and a verdict", () => {
    assert.deepEqual(cmd("-A", "-d", "3", "-p", "5", "-e", "sink_t", "-q", "9", "-j", "REJECT"), {
      op: "append",
      rule: { src: { domid: 3, port: 5 }, dst: { label: "sink_t", port: 9 }, verdict: "reject" },
    });
  });

  it("-I N inserts at N, attached or separate", () => {
    assert.deepEqual(cmd("-I", "2", "-j", "accept"), {
      op: "insert",
      position: 2,
      rule: { src: {}, dst: {}, verdict: "accept" },
    });
    assert.equal((cmd("-I3", "-j", "ACCEPT") as { position: number }).position, 3);
  });

  it("-D[N] deletes by position, or by rule without N", () => {
    assert.deepEqual(cmd("-D2"), { op: "delete-at", position: 2 });
    assert.deepEqual(cmd("-D", "-d", "client_t", "-q", "9"), {
      op: "delete-rule",
      rule: { src: { label: "client_t" }, dst: { port: 9 }, verdict: undefined },
    });
  });

  it("-L, -F and -P", () => {
    assert.deepEqual(cmd("-L"), { op: "list" });
    assert.deepEqual(cmd("-F"), { op: "flush" });
    assert.deepEqual(cmd("-P", "REJECT"), { op: "policy", verdict: "reject" });
    assert.equal(parseViptablesArgs(["-L", "--json", "--control", "h:1"]).control, "h:1");
  });

  it("usage errors name the flag and the bad value", () => {
    const cases: [string[], RegExp][] = [
      [[], /give a command/],
      [["-A", "-L"], /only one of/],
      [["-A", "-d", "3"], /-A needs -j ACCEPT or -j REJECT/],
      [["-A", "-j", "DROP"], /-j "DROP": expected ACCEPT or REJECT/],
      [["-A", "-d", "0", "-j", "ACCEPT"], /-d "0": a domid is in 1\.\.32751/],
      [["-A", "-e", "bad label", "-j", "ACCEPT"], /-e "bad label"/],
      [["-A", "-q", "x", "-j", "ACCEPT"], /-q "x": expected an integer/],
      [["-A", "-q", "4294967295", "-j", "ACCEPT"], /-q "4294967295"/],
      [["-I", "0", "-j", "ACCEPT"], /positions start at 1/],
      [["-D"], /-D needs a position/],
      [["-D2", "-d", "3"], /-D N takes no rule options/],
      [["-L", "-d", "3"], /-L takes no rule options/],
      [["-A", "-d"], /-d needs a value/],
      [["-Z"], /unknown option "-Z"/],
    ];
    for (const [argv, re] of cases)
      assert.throws(
        () => parseViptablesArgs(argv),
        (e) => e instanceof UsageError && re.test(e.message),
        argv.join(" "),
      );
  });

  it("the list shows positions, targets, endpoints and hits", () => {
    const lines = formatRules(
      [
        {
          position: 1,
          id: 4,
          src: { label: "client_t" },
          dst: { domid: 2, port: 9 },
          verdict: "reject",
          hits: 12,
          text: "-d client_t -e 2 -q 9 -j REJECT",
        },
      ],
      1,
      "accept",
      3,
    );
    assert.equal(lines[0], "Argo firewall: 1 rule(s), default ACCEPT (3 hits)");
    assert.match(
      lines[2] ?? "",
      /^1\s+REJECT\s+client_t:\*\s+dom2:9\s+12\s+-d client_t -e 2 -q 9 -j REJECT$/,
    );
  });
});
