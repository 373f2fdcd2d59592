// SPDX-License-Identifier: Apache-2.0
/** Tests of `hmx guest` argument parsing: defaults, env fallbacks, and every problem reported. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseGuestConfig, redactedConfig, type GuestConfig } from "./config.js";

const files: Record<string, string> = { "/cred": "s3cret-token\n", "/empty": "  \n" };
const readFile = (path: string): string => {
  const v = files[path];
  if (v === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
  return v;
};

function parse(argv: string[], env: Record<string, string> = {}): GuestConfig {
  const r = parseGuestConfig({ argv, env, readFile });
  assert.notEqual(r, "help");
  return r as GuestConfig;
}

function problems(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    parseGuestConfig({ argv, env, readFile });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

const base = ["--hypervisor", "127.0.0.1:7070", "--credential-file", "/cred"];

describe("guest config", () => {
  it("parses an echo guest with per-workload defaults and reads the credential file", () => {
    const c = parse([...base, "--workload", "echo"]);
    assert.equal(c.hypervisor, "127.0.0.1:7070");
    assert.equal(c.credential, "s3cret-token");
    assert.equal(c.workload, "echo");
    assert.equal(c.port, 7);
    assert.equal(c.peer, undefined);
    assert.equal(c.statsIntervalMs, 1000);
    assert.equal(c.logLevel, "info");
  });

  it("--reconnect-timeout is seconds (flag or HMX_RECONNECT_TIMEOUT); absent or 0 never gives up", () => {
    assert.equal(parse([...base, "--workload", "echo"]).reconnectTimeoutMs, Infinity);
    assert.equal(
      parse([...base, "--workload", "echo", "--reconnect-timeout", "0"]).reconnectTimeoutMs,
      Infinity,
    );
    assert.equal(
      parse([...base, "--workload", "echo", "--reconnect-timeout", "30"]).reconnectTimeoutMs,
      30_000,
    );
    assert.equal(
      parse([...base, "--workload", "echo"], { HMX_RECONNECT_TIMEOUT: "5" }).reconnectTimeoutMs,
      5000,
    );
  });

  it("a --reconnect-timeout that is not whole seconds is refused naming the value and the range", () => {
    for (const bad of ["-1", "1.5", "soon", "99999999"]) {
      assert.deepEqual(problems([...base, "--workload", "echo", `--reconnect-timeout=${bad}`]), [
        `--reconnect-timeout: "${bad}" is not a whole number of seconds in [0, 9999999] (0 = never give up)`,
      ]);
    }
  });

  it("parses every flag of a traffic guest", () => {
    const c = parse([
      ...base,
      "--workload",
      "traffic",
      "--port",
      "4000",
      "--peer",
      "3",
      "--size",
      "128",
      "--count",
      "10000",
      "--rate",
      "0",
      "--stats-interval-ms",
      "250",
      "--log-level",
      "debug",
    ]);
    assert.deepEqual(
      {
        port: c.port,
        peer: c.peer,
        size: c.size,
        count: c.count,
        rate: c.rate,
        stats: c.statsIntervalMs,
        level: c.logLevel,
      },
      { port: 4000, peer: 3, size: 128, count: 10000, rate: 0, stats: 250, level: "debug" },
    );
  });

  it("takes the hypervisor, credential and log level from HMX_* variables; flags win", () => {
    const env = { HMX_HYPERVISOR: "hv:1", HMX_DOMAIN_CREDENTIAL: "envcred", HMX_LOG_LEVEL: "warn" };
    const c = parse(["--workload", "ping", "--peer", "2", "--interval-ms", "10"], env);
    assert.equal(c.hypervisor, "hv:1");
    assert.equal(c.credential, "envcred");
    assert.equal(c.logLevel, "warn");
    assert.equal(c.intervalMs, 10);
    assert.equal(parse([...base, "--workload", "sink"], env).credential, "s3cret-token");
  });

  it("returns help for -h", () => {
    assert.equal(parseGuestConfig({ argv: ["-h"], env: {} }), "help");
  });

  it("reports every missing requirement at once", () => {
    const p = problems([]);
    assert.equal(p.length, 3);
    assert.match(p[0] ?? "", /--hypervisor/);
    assert.match(p[1] ?? "", /--credential-file/);
    assert.match(p[2] ?? "", /--workload/);
  });

  it("names the flag and the bad value for each bad input", () => {
    const p = problems([
      "--hypervisor",
      "nohost",
      "--credential-file",
      "/missing",
      "--workload",
      "flood",
      "--port",
      "0",
      "--peer",
      "70000",
      "--log-level",
      "loud",
    ]);
    assert.deepEqual(p, [
      '--hypervisor: "nohost" is not HOST:PORT with a port in 1..65535, nor unix:/PATH',
      '--credential-file: cannot read "/missing" (ENOENT)',
      '--workload: "flood" is not one of echo, ping, traffic, sink, fleet, virtio-backend, virtio-demo, tunnel',
      '--port: "0" is not an integer in [1, 4294967295]',
      '--peer: "70000" is not an integer in [1, 32751]',
      '--log-level: "loud" is not one of trace, debug, info, warn, error, fatal, silent',
    ]);
  });

  it("rejects sizes below the numbered header, negative and non-numeric numbers", () => {
    const p = problems([
      ...base,
      "--workload",
      "traffic",
      "--peer",
      "2",
      "--size",
      "11",
      "--count=-1",
      "--rate",
      "fast",
    ]);
    assert.equal(p.length, 3);
    assert.match(p[0] ?? "", /--size: "11"/);
    assert.match(p[1] ?? "", /--count: "-1"/);
    assert.match(p[2] ?? "", /--rate: "fast"/);
  });

  it("requires --peer for ping and traffic", () => {
    assert.deepEqual(problems([...base, "--workload", "ping"]), [
      "--peer DOMID is required for the ping workload",
    ]);
  });

  it("rejects flags that do not apply to the workload", () => {
    const p = problems([...base, "--workload", "echo", "--rate", "5", "--interval-ms", "3"]);
    assert.equal(p.length, 2);
    assert.match(p[0] ?? "", /--rate: does not apply to the echo workload/);
  });

  it("rejects unknown flags and an empty credential file", () => {
    assert.match(problems([...base, "--workload", "echo", "--bogus"])[0] ?? "", /bogus/);
    assert.match(
      problems(["--hypervisor", "h:1", "--credential-file", "/empty", "--workload", "echo"])[0] ??
        "",
      /is empty/,
    );
  });

  it("never puts the credential in an error or in the redacted config", () => {
    const p = problems(["--credential-file", "/cred", "--workload", "x"]);
    assert.ok(p.every((line) => !line.includes("s3cret")));
    const c = parse([...base, "--workload", "echo"]);
    assert.ok(!JSON.stringify(redactedConfig(c)).includes("s3cret"));
  });

  it("an enrolment token may stand in for a credential, with a unix: hypervisor address", () => {
    const c = parseGuestConfig({
      argv: [
        "--hypervisor",
        "unix:/run/hmx/guest.sock",
        "--workload",
        "fleet",
        "--instance",
        "pod-3",
        "--state-dir",
        "/var/lib/hmx",
      ],
      env: { HMX_ENROLMENT_TOKEN: "enrol-me-0123456789" },
    });
    assert.ok(c !== "help");
    assert.deepEqual(
      [c.hypervisor, c.credential, c.enrolmentToken, c.instance, c.stateDir, c.rate],
      ["unix:/run/hmx/guest.sock", "", "enrol-me-0123456789", "pod-3", "/var/lib/hmx", 20],
    );
    assert.equal(redactedConfig(c).enrolmentToken, "[redacted]");
  });

  it("without a credential or an enrolment token the guest refuses to start, saying which to give", () => {
    assert.throws(
      () => parseGuestConfig({ argv: ["--hypervisor", "h:1", "--workload", "echo"], env: {} }),
      (err: unknown) =>
        err instanceof ConfigError && err.problems.some((p) => p.includes("HMX_ENROLMENT_TOKEN")),
    );
  });
});
