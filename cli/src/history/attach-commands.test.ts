// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx domain`, `hmx status` and `hmx history` against a real hypervisor on loopback (toolstack
 * and HTTP listener, history recorded from boot), named by HMX_* variables as a script would:
 * what each prints, that bad values are refused with exit 2 naming them and change nothing, and
 * exit 1 when the hypervisor cannot be reached.
 */
import {
  createLogger,
  parseHypervisorConfig,
  startHypervisor,
  type RunningHypervisor,
} from "@hmx/hypervisor";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CommandIo } from "../commands/control.js";
import { runDomainCommand } from "../domain/domain-command.js";
import { runStatusCommand, type StatusRecord } from "../status/status-command.js";
import { runHistoryCommand } from "./history-command.js";

function capture(): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (l) => out.push(l), error: (l) => err.push(l) };
}

describe("hmx domain, status and history against a hypervisor", () => {
  let hv: RunningHypervisor;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), "hmx-attach-"));

  before(async () => {
    // No `hmx up` of this checkout may answer for the hypervisor under test.
    process.env["HMX_UP_POINTER"] = join(dir, "no-up.json");
    const token = randomBytes(24).toString("base64url");
    const config = parseHypervisorConfig({
      argv: [
        "--listen",
        "127.0.0.1:0",
        "--control-listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
        "--history-from-boot",
      ],
      env: { HMX_ADMIN_TOKEN: token },
    });
    assert.notEqual(config, "help");
    if (config === "help") return;
    hv = await startHypervisor(config, createLogger("silent"));
    env = {
      HMX_CONTROL: hv.controlListen,
      HMX_HTTP: hv.httpListen ?? "",
      HMX_ADMIN_TOKEN: token,
    };
  });
  after(async () => {
    await hv.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("domain create prints the new domid and its credential; the credential opens a guest", async () => {
    const io = capture();
    assert.equal(
      await runDomainCommand(["create", "alpha", "--label", "alpha_t", "--memory", "1M"], io, env),
      0,
    );
    assert.match(io.out[0] ?? "", /^domain (\d+) created \(alpha, alpha_t, 1M\)$/);
    const credential = /^credential: (\S+)$/.exec(io.out[1] ?? "")?.[1] ?? "";
    const domid = Number(/^domain (\d+)/.exec(io.out[0] ?? "")?.[1]);
    const domain = hv.core.domains.get(domid);
    assert.ok(domain !== undefined, "the domain exists");
    assert.equal(domain.memory.sizeBytes, 1 << 20);
    assert.ok(credential.length >= 32, "a real credential was printed");
  });

  it("domain create --credential-file writes the credential 0600 and keeps it off stdout", async () => {
    const io = capture();
    const file = join(dir, "beta.credential");
    const args = ["create", "beta", "--label", "beta_t", "--credential-file", file, "--json"];
    assert.equal(await runDomainCommand(args, io, env), 0);
    const printed = JSON.parse(io.out[0] ?? "{}") as Record<string, unknown>;
    assert.equal(printed["name"], "beta");
    assert.equal(printed["credential"], undefined, "not on stdout");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(readFileSync(file, "utf8").trim().length >= 32);
  });

  it("domain create refuses a bad name, label or memory with exit 2 naming it, and creates nothing", async () => {
    const before = hv.core.domains.list().length;
    const cases: [string[], RegExp][] = [
      [["create", "no spaces", "--label", "x_t"], /domain name "no spaces": expected 1\.\.64/],
      [["create", "gamma", "--label", "bad label"], /--label "bad label": expected/],
      [["create", "gamma", "--label", "x_t", "--memory", "5000"], /--memory "5000": .*4K/],
      [["create", "gamma", "--label", "x_t", "--memory", "16Q"], /--memory "16Q"/],
      [["create", "gamma"], /needs --label LABEL/],
      [["create", "gamma", "--label", "x_t", "--bogus"], /unknown option --bogus/],
    ];
    for (const [args, message] of cases) {
      const io = capture();
      assert.equal(await runDomainCommand(args, io, env), 2, args.join(" "));
      assert.match(io.err[0] ?? "", message);
      assert.match(io.err[1] ?? "", /Run 'hmx domain --help'/);
    }
    assert.equal(hv.core.domains.list().length, before, "nothing was created");
  });

  it("domain list shows every live domain, as a table or the toolstack's view with --json", async () => {
    const io = capture();
    assert.equal(await runDomainCommand(["list"], io, env), 0);
    assert.match(io.out[0] ?? "", /^DOMID\s+NAME\s+LABEL\s+MEMORY\s+RINGS\s+LINK/);
    assert.ok(io.out.some((l) => /^\d+\s+alpha\s+alpha_t\s+/.test(l)));
    const json = capture();
    assert.equal(await runDomainCommand(["list", "--json"], json, env), 0);
    const names = (JSON.parse(json.out.join("\n")) as { name: string }[]).map((d) => d.name);
    assert.deepEqual(names.sort(), ["alpha", "beta"]);
  });

  it("domain destroy looks every domain up first: one unknown name destroys nothing", async () => {
    const io = capture();
    assert.equal(await runDomainCommand(["destroy", "alpha", "nosuch"], io, env), 2);
    assert.match(io.err[0] ?? "", /no live domain "nosuch" \(live: \d+ alpha, \d+ beta\)/);
    assert.equal(hv.core.domains.list().length, 2, "alpha survived");
    const ok = capture();
    const beta = hv.core.domains.list().find((d) => d.name === "beta")?.domid;
    assert.equal(await runDomainCommand(["destroy", "alpha", String(beta)], ok, env), 0);
    assert.equal(ok.out.length, 2);
    assert.equal(hv.core.domains.list().length, 0);
  });

  it("status --json reports the toolstack, policy, totals and the HTTP listener's health", async () => {
    await runDomainCommand(["create", "delta", "--label", "delta_t"], capture(), env);
    const io = capture();
    assert.equal(await runStatusCommand(["--json"], io, env), 0);
    const s = JSON.parse(io.out.join("\n")) as StatusRecord;
    assert.equal(s.control, hv.controlListen);
    assert.equal(s.source, "flags and environment");
    assert.equal(s.policy.xsmModule, "dummy");
    assert.equal(s.totals.domains, 1);
    assert.equal(s.domains[0]?.name, "delta");
    assert.deepEqual(
      { ...s.http, historyEvents: undefined },
      {
        address: hv.httpListen,
        health: "SERVING",
        faultsActive: 0,
        historyEvents: undefined,
        historySubscribers: 0,
      },
    );
    assert.ok((s.http?.historyEvents ?? 0) >= 5, "domain events were recorded from boot");
    const text = capture();
    assert.equal(await runStatusCommand([], text, env), 0);
    assert.match(
      text.out[0] ?? "",
      /^hypervisor: toolstack 127\.0\.0\.1:\d+, http 127\.0\.0\.1:\d+/,
    );
  });

  it("status exits 1 naming the address when the toolstack cannot be reached", async () => {
    const io = capture();
    const code = await runStatusCommand([], io, {
      ...env,
      HMX_CONTROL: "127.0.0.1:1",
      HMX_HTTP: "",
    });
    assert.equal(code, 1);
    assert.match(io.err[0] ?? "", /^hmx status: the toolstack is unreachable/);
  });

  it("history prints every retained event up to now, one line each in seq order, and exits 0", async () => {
    const io = capture();
    assert.equal(await runHistoryCommand([], io, env), 0);
    const seqs = io.out.map((l) => Number(/^#(\d+) /.exec(l)?.[1]));
    assert.equal(seqs.length, 5, io.out.join("\n"));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.match(
      io.out[0] ?? "",
      /^#1 \d\d:\d\d:\d\d\.\d{6} domain\s+d\d+ created alpha \(alpha_t\)$/,
    );
    assert.ok(io.out.some((l) => /domain\s+d\d+ destroyed beta \(beta_t\)$/.test(l)));
  });

  it("history --kinds, --domid and --since filter; --json prints the events as sent", async () => {
    const io = capture();
    assert.equal(
      await runHistoryCommand(["--kinds", "domain", "--since", "2", "--json"], io, env),
      0,
    );
    const events = io.out.map((l) => JSON.parse(l) as { seq: number; kind: string; domid: number });
    assert.equal(events.length, 3);
    assert.ok(events.every((e) => e.kind === "domain" && e.seq > 2));
    const delta = hv.core.domains.list()[0]?.domid ?? -1;
    const one = capture();
    assert.equal(await runHistoryCommand(["--domid", String(delta), "--json"], one, env), 0);
    assert.deepEqual(
      one.out.map((l) => (JSON.parse(l) as { domid: number }).domid),
      [delta],
    );
  });

  it("history --follow prints events as they happen until Ctrl-C", async () => {
    const io = capture();
    const running = runHistoryCommand(["--follow", "--kinds", "domain"], io, env);
    await new Promise((r) => setTimeout(r, 300));
    await runDomainCommand(["create", "epsilon", "--label", "e_t"], capture(), env);
    const deadline = Date.now() + 10_000;
    while (!io.out.some((l) => l.includes("epsilon")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    process.emit("SIGINT", "SIGINT");
    assert.equal(await running, 0);
    assert.equal(io.out.length, 1, "only the new event, not the window");
    assert.match(io.out[0] ?? "", /created epsilon/);
  });

  it("history --last N prints the newest N retained events the filters pass and exits; with --follow it goes on", async () => {
    const seqsOf = (io: { out: string[] }): number[] =>
      io.out.map((l) => (JSON.parse(l) as { seq: number }).seq);
    const all = capture();
    assert.equal(await runHistoryCommand(["--json"], all, env), 0);
    const last2 = capture();
    assert.equal(await runHistoryCommand(["--last", "2", "--json"], last2, env), 0);
    assert.deepEqual(seqsOf(last2), seqsOf(all).slice(-2));
    const domains = capture();
    assert.equal(
      await runHistoryCommand(["-n", "2", "--kinds", "domain", "--json"], domains, env),
      0,
    );
    const allDomains = all.out.filter((l) => (JSON.parse(l) as { kind: string }).kind === "domain");
    assert.deepEqual(seqsOf(domains), seqsOf({ out: allDomains }).slice(-2));
    const more = capture();
    assert.equal(await runHistoryCommand(["--last", "100000", "--json"], more, env), 0);
    assert.deepEqual(seqsOf(more), seqsOf(all), "fewer when the window holds fewer");
    const binary = capture();
    assert.equal(
      await runHistoryCommand(["--last", "100000", "--json", "--format", "binary"], binary, env),
      0,
    );
    assert.deepEqual(binary.out, more.out, "--format binary prints the same lines");

    const io = capture();
    const running = runHistoryCommand(["--last", "1", "--follow", "--kinds", "domain"], io, env);
    const deadline = Date.now() + 10_000;
    while (io.out.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await runDomainCommand(["create", "zeta", "--label", "z_t"], capture(), env);
    while (!io.out.some((l) => l.includes("zeta")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    process.emit("SIGINT", "SIGINT");
    assert.equal(await running, 0);
    assert.equal(io.out.length, 2, io.out.join("\n"));
    assert.match(io.out[0] ?? "", /created epsilon/, "the newest retained domain event first");
    assert.match(io.out[1] ?? "", /created zeta/, "then live ones");
  });

  it("history refuses a bad kind, domid, --last, format or a since from another run with exit 2 naming it", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--kinds", "hypercall,bogus"],
        /--kinds: "bogus" is not a kind; expected some of hypercall/,
      ],
      [["--domid", "40000"], /--domid "40000": expected an integer in 0\.\.32751/],
      [["--since", "x"], /--since "x": expected an integer/],
      [["--since", "99999999"], /since 99999999 is beyond the newest event/],
      [["--last", "0"], /--last "0": expected a count of events, an integer in 1\.\./],
      [["--last", "2.5"], /--last "2\.5": expected a count of events/],
      [["--last", "ten"], /--last "ten": expected a count of events/],
      [["--last", "2", "--since", "1"], /--since and --last are exclusive/],
      [["--format", "cbor"], /--format "cbor": expected json or binary/],
    ];
    for (const [args, message] of cases) {
      const io = capture();
      assert.equal(await runHistoryCommand(args, io, env), 2, args.join(" "));
      assert.match(io.err[0] ?? "", message);
    }
  });

  it("history with no listener named anywhere says how to name one (exit 2)", async () => {
    const io = capture();
    assert.equal(await runHistoryCommand([], io, { HMX_ADMIN_TOKEN: "x" }), 2);
    assert.match(io.err[0] ?? "", /no HTTP listener to read: pass --http HOST:PORT/);
  });
});
