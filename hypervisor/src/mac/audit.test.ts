// SPDX-License-Identifier: Apache-2.0
/** Audit records: the AVC-style line, counters per permission and rule, subscribers, and the log rate limit. */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { pino, type Logger } from "pino";

import { Audit, type AuditInput } from "./audit.js";

const DENIAL: AuditInput = {
  module: "flask",
  permission: "send",
  scontext: "client_t",
  tcontext: "sink_t",
  sourceDomid: 3,
  targetDomid: 4,
  ports: null,
  rule: "no allow rule grants client_t sink_t:argo send",
  ruleKey: "flask:no-allow client_t sink_t:argo send",
  ret: -13,
  permissive: false,
};

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: "warn" }, stream), lines };
}

describe("audit", () => {
  test("an audit record reads like a Flask AVC denial with domids, ports and the rule", () => {
    const audit = new Audit(pino({ level: "silent" }));
    const r = audit.record({
      ...DENIAL,
      module: "firewall",
      ports: { src: 5, dst: 9 },
      rule: "firewall rule 2 (#7): -q 9 -j REJECT",
      ruleKey: "firewall#7",
      ret: -1,
    });
    assert.equal(
      r.text,
      'avc: denied { send } for sdomid=3 tdomid=4 sport=5 dport=9 scontext=client_t tcontext=sink_t tclass=argo permissive=0 module=firewall ret=-1 rule="firewall rule 2 (#7): -q 9 -j REJECT"',
    );
    assert.equal(r.seq, 1);
    assert.equal(r.tclass, "argo");
  });

  test("denials are counted per permission and per rule", () => {
    const audit = new Audit(pino({ level: "silent" }));
    audit.record(DENIAL);
    audit.record(DENIAL);
    audit.record({ ...DENIAL, module: "firewall", ruleKey: "firewall#1" });
    const c = audit.counters();
    assert.equal(c.denials, 3);
    assert.deepEqual(c.byPermission, [
      ["firewall:send", 1],
      ["flask:send", 2],
    ]);
    assert.deepEqual(c.byRule, [
      ["firewall#1", 1],
      ["flask:no-allow client_t sink_t:argo send", 2],
    ]);
  });

  test("subscribers get every record until they unsubscribe", () => {
    const audit = new Audit(pino({ level: "silent" }));
    const seen: number[] = [];
    const off = audit.subscribe((r) => seen.push(r.seq));
    audit.record(DENIAL);
    audit.record(DENIAL);
    off();
    audit.record(DENIAL);
    assert.deepEqual(seen, [1, 2]);
  });

  test("log lines are rate-limited; the next line says how many were suppressed", () => {
    let now = 0;
    const { log, lines } = capture();
    const audit = new Audit(log, { burst: 3, perSecond: 2, now: () => now });
    for (let i = 0; i < 10; i++) audit.record(DENIAL);
    assert.equal(lines.length, 3);
    assert.equal(lines[0]?.["level"], 40);
    assert.match(String(lines[0]["msg"]), /^avc: denied \{ send \}/);
    now = 1000;
    audit.record(DENIAL);
    assert.equal(lines.length, 4);
    assert.equal(lines[3]?.["suppressed"], 7);
    assert.equal(audit.counters().logSuppressed, 7);
    assert.equal(audit.counters().denials, 11, "counters see every record");
  });
});
