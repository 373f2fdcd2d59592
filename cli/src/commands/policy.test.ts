// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx policy` and `hmx viptables` end to end against a real hypervisor on loopback: load
 * (positioned errors, nothing loaded), show, validate offline, check (what-if), mode, audit
 * counters, firewall administration; exit codes 0/1/2.
 */
import {
  createLogger,
  parseHypervisorConfig,
  startHypervisor,
  type RunningHypervisor,
} from "@hmx/hypervisor";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";

import type { CommandIo } from "./control.js";
import { runPolicyCommand } from "./policy.js";
import { runViptablesCommand } from "./viptables.js";

const DEFAULT_TE = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "deploy",
  "policy",
  "default.te",
);

function capture(): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (l) => out.push(l), error: (l) => err.push(l) };
}

describe("hmx policy and hmx viptables against a hypervisor", () => {
  let hv: RunningHypervisor;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), "hmx-policy-"));

  before(async () => {
    const token = randomBytes(24).toString("base64url");
    writeFileSync(join(dir, "default.te"), readFileSync(DEFAULT_TE));
    const config = parseHypervisorConfig({
      argv: [
        "--listen",
        "127.0.0.1:0",
        "--control-listen",
        "127.0.0.1:0",
        "--policy",
        join(dir, "default.te"),
        "--argo-mac-permissive",
      ],
      env: { HMX_ADMIN_TOKEN: token },
    });
    assert.notEqual(config, "help");
    if (config === "help") return;
    hv = await startHypervisor(config, createLogger("silent"));
    env = { HMX_CONTROL: hv.controlListen, HMX_ADMIN_TOKEN: token };
    hv.core.domains.create({ name: "echo", label: "echo_t", memoryBytes: 1 << 20 });
    hv.core.domains.create({ name: "pinger", label: "client_t", memoryBytes: 1 << 20 });
  });
  after(async () => {
    await hv.stop();
  });

  it("policy show reports the boot policy", async () => {
    const io = capture();
    assert.equal(await runPolicyCommand(["show"], io, env), 0);
    assert.equal(io.out[0], "xsm module: flask");
    assert.equal(io.out[1], "flask mode: enforcing");
    assert.match(io.out[2] ?? "", /default\.te \(generation 1/);
  });

  it("policy check answers the what-if with the deciding rule, exit 0 allowed and 3 denied", async () => {
    const io = capture();
    assert.equal(
      await runPolicyCommand(["check", "--from", "2", "--to", "1", "--port", "7"], io, env),
      0,
    );
    assert.match(io.out[0] ?? "", /^allowed \(ret 0\): firewall default ACCEPT$/);
    assert.match(
      io.out.join("\n"),
      /send\s+flask\s+allow\s+.*default\.te:\d+:1: allow client_t \{ echo_t sink_t \}:argo send;/,
    );
    const denied = capture();
    assert.equal(
      await runPolicyCommand(["check", "--from", "echo_t", "--to", "sink_t"], denied, env),
      3,
    );
    assert.match(
      denied.out[0] ?? "",
      /^denied \(ret -13\): no allow rule grants echo_t sink_t:argo send$/,
    );
  });

  it("policy load of a bad file prints file:line:col errors, loads nothing and exits 1", async () => {
    const bad = join(dir, "bad.te");
    writeFileSync(bad, "type a_t;\nallow a_t b_t:argo send;\n");
    const io = capture();
    assert.equal(await runPolicyCommand(["load", bad], io, env), 1);
    assert.equal(io.err[0], `${bad}:2:11: unknown type or attribute 'b_t'`);
    const show = capture();
    await runPolicyCommand(["show"], show, env);
    assert.match(show.out[2] ?? "", /generation 1/);
  });

  it("policy load of a good file swaps it in; validate works offline", async () => {
    const io = capture();
    assert.equal(await runPolicyCommand(["load", join(dir, "default.te")], io, env), 0);
    assert.match(io.out[0] ?? "", /loaded: generation 2/);
    const v = capture();
    assert.equal(await runPolicyCommand(["validate", DEFAULT_TE], v, {}), 0);
    assert.match(v.out[0] ?? "", /ok \(5 types, 1 attributes, 6 allow rules\)/);
  });

  it("a missing or empty policy file is one line naming the file, exit 1", async () => {
    const missing = capture();
    assert.equal(await runPolicyCommand(["validate", join(dir, "nope.te")], missing, {}), 1);
    assert.deepEqual(missing.err, [
      `hmx policy validate: ${JSON.stringify(join(dir, "nope.te"))}: no such file (policies live in deploy/policy/, e.g. deploy/policy/default.te)`,
    ]);
    for (const text of ["", "\n  \n", "# only a comment\n"]) {
      const empty = join(dir, "empty.te");
      writeFileSync(empty, text);
      for (const sub of ["validate", "load"]) {
        const io = capture();
        assert.equal(
          await runPolicyCommand([sub, empty], io, env),
          1,
          `${sub} ${JSON.stringify(text)}`,
        );
        assert.match(io.err.join("\n"), /the policy is empty/);
        assert.deepEqual(io.out, []);
      }
    }
  });

  it("policy mode and audit", async () => {
    assert.equal(await runPolicyCommand(["mode", "permissive"], capture(), env), 0);
    assert.equal(await runPolicyCommand(["mode", "enforcing"], capture(), env), 0);
    const io = capture();
    assert.equal(await runPolicyCommand(["audit"], io, env), 0);
    assert.match(io.out[0] ?? "", /^denials: \d+/);
  });

  it("usage errors exit 2 and name the bad value; an unreachable toolstack exits 1", async () => {
    const io = capture();
    assert.equal(
      await runPolicyCommand(["check", "--from", "2", "--to", "1", "--perm", "write"], io, env),
      2,
    );
    assert.match(io.err[0] ?? "", /--perm "write": expected one of/);
    assert.deepEqual(io.err.slice(1), ["Run 'hmx policy --help' for usage."], "no full usage");
    assert.equal(await runPolicyCommand(["frobnicate"], capture(), env), 2);
    assert.equal(await runPolicyCommand(["show", "--bogus"], capture(), env), 2);
    assert.equal(await runPolicyCommand(["show"], capture(), { HMX_CONTROL: hv.controlListen }), 2);
    const down = capture();
    assert.equal(await runPolicyCommand(["show"], down, { ...env, HMX_CONTROL: "127.0.0.1:1" }), 1);
    assert.match(down.err[0] ?? "", /unreachable/);
  });

  it("viptables -A/-I/-L/-D/-F/-P drive the firewall", async () => {
    assert.equal(
      await runViptablesCommand(
        ["-A", "-d", "client_t", "-e", "echo_t", "-q", "7", "-j", "ACCEPT"],
        capture(),
        env,
      ),
      0,
    );
    assert.equal(
      await runViptablesCommand(["-I", "1", "-d", "2", "-j", "REJECT"], capture(), env),
      0,
    );
    const list = capture();
    assert.equal(await runViptablesCommand(["-L"], list, env), 0);
    assert.equal(list.out[0], "Argo firewall: 2 rule(s), default ACCEPT (0 hits)");
    assert.match(list.out[2] ?? "", /^1\s+REJECT\s+dom2:\*/);
    const check = capture();
    assert.equal(
      await runPolicyCommand(["check", "--from", "2", "--to", "1", "--port", "7"], check, env),
      3,
    );
    assert.match(check.out[0] ?? "", /^denied \(ret -1\): firewall rule 1 \(#2\): -d 2 -j REJECT$/);
    assert.equal(await runViptablesCommand(["-D1"], capture(), env), 0);
    assert.equal(
      await runViptablesCommand(
        ["-D", "-d", "client_t", "-e", "echo_t", "-q", "7"],
        capture(),
        env,
      ),
      0,
    );
    const missing = capture();
    assert.equal(await runViptablesCommand(["-D5"], missing, env), 1);
    assert.match(missing.err[0] ?? "", /not found: no rule at position 5/);
    assert.equal(await runViptablesCommand(["-P", "REJECT"], capture(), env), 0);
    assert.equal(await runViptablesCommand(["-P", "ACCEPT"], capture(), env), 0);
    assert.equal(await runViptablesCommand(["-F"], capture(), env), 0);
    assert.equal(await runViptablesCommand(["-A"], capture(), env), 2);
  });
});
