// SPDX-License-Identifier: Apache-2.0
/**
 * The MAC RPCs of the toolstack over real loopback connections, driven the way a harness would:
 * admin token required, labels and the privileged flag, policy load / fetch / validate with
 * positioned errors (a bad policy changes nothing), Flask mode, the what-if query agreeing with
 * the guest API, viptables-style firewall administration and paging, audit counters and the
 * WatchAudit stream, and atomic reloads while guests keep calling.
 */
import * as grpc from "@grpc/grpc-js";
import { ARGO_DOMID_ANY, Errno, FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  startTestHypervisor,
  type TestGuest,
  type TestHypervisor,
} from "../test-utils/test-hypervisor.js";
import { ToolstackClient, type AuditRecordView } from "@hmx/client";

interface Ret {
  ret: number;
}
interface NotifyRes {
  ret: number;
  entries: { flags: number; maxMessageSize: number }[];
}

const POLICY = `# test policy
attribute domain_type;
type client_t, domain_type;
type sink_t, domain_type;
type other_t, domain_type;
allow domain_type xen_t:argo enable;
allow client_t sink_t:argo send;
allow sink_t client_t:argo register_single_source;
allow other_t client_t:argo register_single_source;
`;

const PAYLOAD_GPA = 64 * PAGE_SIZE;

/** Polls until `cond` holds (at most ~2 s), for effects that cross the loopback. */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

function grpcCode(err: unknown): number | undefined {
  return (err as grpc.ServiceError).code;
}

async function registerRing(
  g: TestGuest,
  aport: number,
  partnerId: number,
  gfn = FIRST_GUEST_GFN,
): Promise<number> {
  await g.call("WriteMemory", { gpa: String(gfn * PAGE_SIZE), data: Buffer.alloc(64) });
  return (
    await g.call<Ret>("RegisterRing", { aport, partnerId, len: 256, gfns: [String(gfn)], flags: 0 })
  ).ret;
}

async function sendv(g: TestGuest, domainId: number, aport: number, srcAport = 5): Promise<number> {
  await g.call("WriteMemory", { gpa: String(PAYLOAD_GPA), data: Buffer.from("hi") });
  const r = await g.call<Ret>("Sendv", {
    src: { aport: srcAport, domainId: ARGO_DOMID_ANY },
    dst: { domainId, aport },
    iovs: [{ gpa: String(PAYLOAD_GPA), len: 2 }],
    messageType: 0,
  });
  return r.ret;
}

describe("toolstack MAC RPCs under flask", () => {
  let t: TestHypervisor;
  let client: TestGuest;
  let sink: TestGuest;
  let other: TestGuest;

  before(async () => {
    t = await startTestHypervisor({
      xsm: "flask",
      policy: { fileName: "boot.te", source: POLICY },
      argoMacPermissive: false,
    });
    client = await t.createGuest("client");
    sink = await t.createGuest("sink");
    other = await t.createGuest("other", undefined, { privileged: true });
    assert.equal(await registerRing(sink, 9, client.domid), 0);
    assert.equal(await registerRing(other, 9, client.domid), 0);
  });
  after(async () => {
    await t.stop();
  });

  test("MAC RPCs need the admin token", async () => {
    const wrong = new ToolstackClient(t.hv.controlListen, "not-the-admin-token-at-all");
    try {
      await assert.rejects(wrong.getPolicy(), (e) => grpcCode(e) === grpc.status.UNAUTHENTICATED);
      await assert.rejects(
        wrong.addFirewallRule({ verdict: "reject" }),
        (e) => grpcCode(e) === grpc.status.UNAUTHENTICATED,
      );
      const watch = wrong.watchAudit(() => undefined);
      await assert.rejects(watch.done, (e) => grpcCode(e) === grpc.status.UNAUTHENTICATED);
    } finally {
      wrong.close();
    }
  });

  test("ListDomains shows labels and the privileged flag", async () => {
    const domains = await t.toolstack.listDomains();
    assert.deepEqual(
      domains.map((d) => [d.label, d.privileged]),
      [
        ["client_t", false],
        ["sink_t", false],
        ["other_t", true],
      ],
    );
  });

  test("GetPolicy returns the boot policy, its digest and summary", async () => {
    const { info, source } = await t.toolstack.getPolicy();
    assert.equal(source, POLICY);
    assert.equal(info.loaded, true);
    assert.equal(info.fileName, "boot.te");
    assert.equal(info.xsmModule, "flask");
    assert.equal(info.flaskMode, "enforcing");
    assert.equal(info.allowRules, 4);
    assert.equal(info.types, 5);
    assert.match(info.sha256, /^[0-9a-f]{64}$/);
  });

  test("sendv over gRPC is -EACCES without an allow rule and succeeds with one", async () => {
    assert.equal(await sendv(client, sink.domid, 9), 2);
    assert.equal(await sendv(client, other.domid, 9), -Errno.EACCES);
  });

  test("CheckAccess agrees with the guest API and names the deciding rule", async () => {
    const yes = await t.toolstack.checkAccess({
      source: { domid: client.domid },
      target: { domid: sink.domid },
      dstPort: 9,
    });
    assert.equal(yes.allowed, true);
    assert.equal(yes.steps[1]?.rule, "boot.te:7:1: allow client_t sink_t:argo send;");
    const no = await t.toolstack.checkAccess({
      source: { domid: client.domid },
      target: { domid: other.domid },
      dstPort: 9,
    });
    assert.equal(no.ret, -Errno.EACCES);
    assert.equal(no.decidedBy, "no allow rule grants client_t other_t:argo send");
    const hypothetical = await t.toolstack.checkAccess({
      source: { label: "sink_t" },
      target: { label: "client_t" },
      permission: "register_single_source",
    });
    assert.equal(hypothetical.allowed, true);
    const wildcard = await t.toolstack.checkAccess({
      source: { domid: sink.domid },
      permission: "register_any_source",
    });
    assert.equal(wildcard.ret, -Errno.EPERM);
  });

  test("CheckAccess rejects unknown domids and missing subjects", async () => {
    await assert.rejects(
      t.toolstack.checkAccess({ source: { domid: 999 }, target: { domid: 1 } }),
      (e) => grpcCode(e) === grpc.status.NOT_FOUND,
    );
    await assert.rejects(
      t.toolstack.checkAccess({ source: { domid: 1 } }),
      (e) => grpcCode(e) === grpc.status.INVALID_ARGUMENT,
    );
    await assert.rejects(
      t.toolstack.checkAccess({ source: { label: "bad label" }, target: { domid: 1 } }),
      /source\.label "bad label"/,
    );
    await assert.rejects(
      t.toolstack.checkAccess({ source: { domid: 1 }, target: { domid: 2 }, permission: "enable" }),
      /leave target unset/,
    );
  });

  test("a bad policy is rejected whole with file:line:col errors and the running policy stays in force", async () => {
    const before = await t.toolstack.getPolicy();
    await assert.rejects(
      t.toolstack.loadPolicy(
        "type a_t;\nallow a_t b_t:argo send;\nallow a_t a_t:argo { sned };\n",
        "bad.te",
      ),
      (e) => {
        assert.equal(grpcCode(e), grpc.status.INVALID_ARGUMENT);
        const details = (e as grpc.ServiceError).details;
        assert.match(
          details,
          /policy rejected with 2 error\(s\); the running policy stays in force/,
        );
        assert.match(details, /bad\.te:2:11: unknown type or attribute 'b_t'/);
        assert.match(details, /bad\.te:3:22: unknown permission 'sned'/);
        return true;
      },
    );
    const afterwards = await t.toolstack.getPolicy();
    assert.equal(afterwards.info.generation, before.info.generation);
    assert.equal(afterwards.source, POLICY);
    assert.equal(await sendv(client, sink.domid, 9), 2);
  });

  test("ValidatePolicy lists every error with its position and loads nothing", async () => {
    const bad = await t.toolstack.validatePolicy("allow x_t y_t:argo send;\n", "v.te");
    assert.equal(bad.ok, false);
    assert.deepEqual(
      bad.errors.map((e) => `${e.file}:${e.line}:${e.column}`),
      ["v.te:1:7", "v.te:1:11"],
    );
    const good = await t.toolstack.validatePolicy(POLICY);
    assert.deepEqual([good.ok, good.allowRules], [true, 4]);
  });

  test("LoadPolicy swaps the policy in and the next sendv sees it", async () => {
    const info = await t.toolstack.loadPolicy(
      POLICY + "allow client_t other_t:argo send;\n",
      "v2.te",
    );
    assert.equal(info.fileName, "v2.te");
    assert.equal(await sendv(client, other.domid, 9), 2);
    await t.toolstack.loadPolicy(POLICY, "boot.te");
    assert.equal(await sendv(client, other.domid, 9), -Errno.EACCES);
  });

  test("SetFlaskMode permissive lets a denied sendv through and audits it with permissive=1", async () => {
    const seen: AuditRecordView[] = [];
    const watch = t.toolstack.watchAudit((r) => seen.push(r));
    await waitFor(() => t.hv.mac.audit.subscriberCount > 0);
    try {
      await t.toolstack.setFlaskMode("permissive");
      assert.equal(await sendv(client, other.domid, 9), 2);
      await t.toolstack.setFlaskMode("enforcing");
      assert.equal(await sendv(client, other.domid, 9), -Errno.EACCES);
      await waitFor(() => seen.length >= 2);
      assert.deepEqual(
        seen.map((r) => [r.permission, r.permissive, r.ret]),
        [
          ["send", true, 0],
          ["send", false, -Errno.EACCES],
        ],
      );
      assert.equal(seen[0]?.scontext, "client_t");
      assert.equal(seen[0].tcontext, "other_t");
      assert.equal(seen[0].sourceDomid, client.domid);
      assert.match(
        seen[1]?.text ?? "",
        /^avc: denied \{ send \} for sdomid=1 tdomid=3 scontext=client_t tcontext=other_t tclass=argo permissive=0/,
      );
    } finally {
      watch.cancel();
      await watch.done;
    }
  });

  test("GetAuditCounters counts denials per permission and per rule", async () => {
    const c = await t.toolstack.getAuditCounters();
    assert.ok(c.denials >= 2);
    assert.ok((c.byPermission.find(([k]) => k === "flask:send")?.[1] ?? 0) >= 2);
    assert.ok(c.byRule.some(([k]) => k === "flask:no-allow client_t other_t:argo send"));
  });

  test("an unspecified Flask mode is INVALID_ARGUMENT", async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        // Drive the generated client directly: the wrapper never sends UNSPECIFIED.
        const raw = (
          t.toolstack as unknown as {
            client: {
              setFlaskMode: (
                r: object,
                m: grpc.Metadata,
                cb: (e: grpc.ServiceError | null, v: unknown) => void,
              ) => void;
            };
          }
        ).client;
        const md = new grpc.Metadata();
        md.set("authorization", `Bearer ${t.adminToken}`);
        raw.setFlaskMode({ mode: "FLASK_MODE_UNSPECIFIED" }, md, (e, v) => {
          if (e !== null) reject(e);
          else resolve(v);
        });
      }),
      (e) => grpcCode(e) === grpc.status.INVALID_ARGUMENT,
    );
  });
});

describe("toolstack firewall RPCs (viptables)", () => {
  let t: TestHypervisor;
  let a: TestGuest;
  let b: TestGuest;

  before(async () => {
    t = await startTestHypervisor();
    a = await t.createGuest("a");
    b = await t.createGuest("b");
    assert.equal(await registerRing(b, 9, a.domid), 0);
  });
  after(async () => {
    await t.stop();
  });

  test("a REJECT rule fails sendv with -EPERM and is audited with ports and the rule", async () => {
    const seen: AuditRecordView[] = [];
    const watch = t.toolstack.watchAudit((r) => seen.push(r));
    await waitFor(() => t.hv.mac.audit.subscriberCount > 0);
    try {
      const { position, id } = await t.toolstack.addFirewallRule({
        src: { label: "a_t" },
        dst: { port: 9 },
        verdict: "reject",
      });
      assert.equal(position, 1);
      assert.equal(await sendv(a, b.domid, 9), -Errno.EPERM);
      await waitFor(() => seen.length >= 1);
      assert.equal(seen[0]?.module, "firewall");
      assert.deepEqual(seen[0].ports, { src: 5, dst: 9 });
      assert.equal(seen[0].rule, `firewall rule 1 (#${id}): -d a_t -q 9 -j REJECT`);
      const what = await t.toolstack.checkAccess({
        source: { domid: a.domid },
        target: { domid: b.domid },
        dstPort: 9,
        srcPort: 5,
      });
      assert.equal(what.ret, -Errno.EPERM);
      assert.equal(what.steps.at(-1)?.hook, "firewall");
    } finally {
      watch.cancel();
      await watch.done;
      await t.toolstack.flushFirewall();
    }
  });

  test("insert positions, paging, delete by position and by rule, and flush behave like viptables", async () => {
    for (let p = 0; p < 20; p++)
      await t.toolstack.addFirewallRule({
        src: { domid: a.domid },
        dst: { port: 100 + p },
        verdict: "accept",
      });
    await t.toolstack.addFirewallRule({ dst: { port: 9 }, verdict: "reject" }, 1);
    const first = await t.toolstack.listFirewallRules();
    assert.equal(first.rules.length, 8);
    assert.equal(first.total, 21);
    assert.equal(first.rules[0]?.text, "-q 9 -j REJECT");
    assert.equal(first.rules[1]?.position, 2);
    const all = await t.toolstack.listAllFirewallRules(8);
    assert.equal(all.rules.length, 21);
    await assert.rejects(
      t.toolstack.listFirewallRules(22),
      (e) => grpcCode(e) === grpc.status.OUT_OF_RANGE,
    );
    assert.equal(await sendv(a, b.domid, 9), -Errno.EPERM);
    const removed = await t.toolstack.deleteFirewallRule(1);
    assert.equal(removed?.text, "-q 9 -j REJECT");
    assert.equal(removed.hits, 1);
    assert.equal(await sendv(a, b.domid, 9), 2);
    const byRule = await t.toolstack.deleteFirewallRule({
      src: { domid: a.domid },
      dst: { port: 105 },
    });
    assert.equal(byRule?.dst.port, 105);
    await assert.rejects(
      t.toolstack.deleteFirewallRule({ src: { domid: a.domid }, dst: { port: 105 } }),
      (e) => grpcCode(e) === grpc.status.NOT_FOUND,
    );
    await assert.rejects(
      t.toolstack.deleteFirewallRule(99),
      (e) => grpcCode(e) === grpc.status.NOT_FOUND,
    );
    assert.equal(await t.toolstack.flushFirewall(), 19);
    assert.equal((await t.toolstack.listFirewallRules()).total, 0);
  });

  test("bad rules are INVALID_ARGUMENT naming the field, and change nothing", async () => {
    await assert.rejects(
      t.toolstack.addFirewallRule({ src: { domid: 0 }, verdict: "reject" }),
      /source domid 0/,
    );
    await assert.rejects(
      t.toolstack.addFirewallRule({ dst: { label: "no spaces" }, verdict: "reject" }),
      /destination label "no spaces"/,
    );
    await assert.rejects(
      t.toolstack.listFirewallRules(0, 5000),
      (e) => grpcCode(e) === grpc.status.INVALID_ARGUMENT,
    );
    assert.equal((await t.toolstack.listFirewallRules()).total, 0);
  });

  test("the default verdict can be REJECT (strict deployment) and back", async () => {
    await t.toolstack.setFirewallDefault("reject");
    assert.equal(await sendv(a, b.domid, 9), -Errno.EPERM);
    await t.toolstack.addFirewallRule({
      src: { domid: a.domid },
      dst: { domid: b.domid, port: 9 },
      verdict: "accept",
    });
    assert.equal(await sendv(a, b.domid, 9), 2);
    const page = await t.toolstack.listFirewallRules();
    assert.equal(page.defaultVerdict, "reject");
    assert.ok(page.defaultHits >= 1);
    await t.toolstack.setFirewallDefault("accept");
    await t.toolstack.flushFirewall();
  });

  test("LoadPolicy under the dummy module is FAILED_PRECONDITION; ValidatePolicy still works", async () => {
    await assert.rejects(
      t.toolstack.loadPolicy(POLICY),
      (e) => grpcCode(e) === grpc.status.FAILED_PRECONDITION,
    );
    assert.equal((await t.toolstack.validatePolicy(POLICY)).ok, true);
    assert.equal((await t.toolstack.getPolicy()).info.xsmModule, "dummy");
  });
});

describe("policy reload atomicity", () => {
  test("notify entries are judged against one policy even while policies alternate under load", async () => {
    // Policy A lets x send to y but not to z; policy B the reverse. A notify naming [y, z]
    // stops at z under A (1 entry) and at y under B (0 entries); a call that saw A for y and
    // B for z would succeed with 2 entries.
    const base = "attribute d; type x_t, d; type y_t, d; type z_t, d; allow d xen_t:argo enable;\n";
    const policyA = base + "allow x_t y_t:argo send;\n";
    const policyB = base + "allow x_t z_t:argo send;\n";
    const t = await startTestHypervisor({
      xsm: "flask",
      policy: { fileName: "a.te", source: policyA },
    });
    try {
      const x = await t.createGuest("x");
      const y = await t.createGuest("y");
      const z = await t.createGuest("z");
      const ringData = {
        entries: [y, z].map((g) => ({ ring: { domainId: g.domid, aport: 1 }, spaceRequired: 0 })),
      };
      let stop = false;
      const outcomes = new Map<string, number>();
      const senders = Array.from({ length: 6 }, async () => {
        while (!stop) {
          const r = await x.call<NotifyRes>("Notify", { ringData });
          const key = `${r.ret}/${r.entries.length}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      });
      for (let i = 0; i < 40; i++) {
        const useA = i % 2 === 1;
        await t.toolstack.loadPolicy(useA ? policyA : policyB, useA ? "a.te" : "b.te");
        // The AVC was flushed with the load: the very next call sees the new policy.
        const r = await x.call<NotifyRes>("Notify", { ringData });
        assert.deepEqual([r.ret, r.entries.length], [-Errno.EACCES, useA ? 1 : 0]);
      }
      stop = true;
      await Promise.all(senders);
      assert.deepEqual(
        [...outcomes.keys()].filter((k) => k !== "-13/1" && k !== "-13/0"),
        [],
        JSON.stringify([...outcomes]),
      );
      assert.ok(
        (outcomes.get("-13/1") ?? 0) > 0 && (outcomes.get("-13/0") ?? 0) > 0,
        JSON.stringify([...outcomes]),
      );
    } finally {
      await t.stop();
    }
  });
});
