// SPDX-License-Identifier: Apache-2.0
/** The MAC flags of `hmx hypervisor`: defaults, env equivalents, and ConfigErrors naming flag and value. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ConfigError, parseHypervisorConfig, type HypervisorConfig } from "./config.js";

const TOKEN = { HMX_ADMIN_TOKEN: "0123456789abcdef0123" };
const GOOD = "type a_t; allow a_t xen_t:argo enable;\n";

function parse(
  argv: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): HypervisorConfig {
  const c = parseHypervisorConfig({
    argv,
    env: { ...TOKEN, ...env },
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file '${p}'`);
      return text;
    },
  });
  assert.notEqual(c, "help");
  return c as HypervisorConfig;
}

function problems(
  argv: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): string[] {
  try {
    parse(argv, env, files);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  assert.fail("expected a ConfigError");
}

describe("MAC configuration", () => {
  test("without a policy the XSM module is dummy, flask enforcing, firewall default accept", () => {
    const c = parse([]);
    assert.deepEqual(
      [c.xsm, c.policy, c.flaskMode, c.firewallDefault],
      ["dummy", undefined, "enforcing", "accept"],
    );
  });

  test("--policy FILE selects flask and carries the file", () => {
    const c = parse(["--policy", "p.te"], {}, { "p.te": GOOD });
    assert.equal(c.xsm, "flask");
    assert.deepEqual(c.policy, { fileName: "p.te", source: GOOD });
  });

  test("HMX_XSM, HMX_POLICY, HMX_FLASK_MODE and HMX_FIREWALL_DEFAULT are the env equivalents", () => {
    const c = parse(
      [],
      { HMX_POLICY: "p.te", HMX_FLASK_MODE: "permissive", HMX_FIREWALL_DEFAULT: "reject" },
      { "p.te": GOOD },
    );
    assert.deepEqual([c.xsm, c.flaskMode, c.firewallDefault], ["flask", "permissive", "reject"]);
    assert.equal(parse([], { HMX_XSM: "silo" }).xsm, "silo");
    assert.equal(
      parse(["--xsm", "dummy"], { HMX_XSM: "silo" }).xsm,
      "dummy",
      "the flag wins over the env",
    );
  });

  test("bad MAC values are ConfigErrors naming the flag and the value", () => {
    assert.deepEqual(problems(["--xsm", "selinux"]), [
      '--xsm "selinux": expected one of dummy, flask, silo',
    ]);
    assert.deepEqual(problems(["--flask-mode", "lax"]), [
      '--flask-mode "lax": expected enforcing or permissive',
    ]);
    assert.deepEqual(problems(["--firewall-default", "drop"]), [
      '--firewall-default "drop": expected accept or reject',
    ]);
    assert.deepEqual(problems(["--policy", "p.te", "--xsm", "silo"], {}, { "p.te": GOOD }), [
      "--policy needs --xsm flask (got --xsm silo)",
    ]);
    assert.match(problems(["--policy", "missing.te"])[0] ?? "", /^--policy "missing\.te": ENOENT/);
  });

  test("a boot policy with errors is a ConfigError listing each error with file:line:col", () => {
    assert.deepEqual(
      problems(
        ["--policy", "bad.te"],
        {},
        { "bad.te": "type a_t;\nallow a_t b_t:argo send;\nallow a_t a_t:argo nope;\n" },
      ),
      [
        '--policy "bad.te": the policy has 2 error(s):',
        "  bad.te:2:11: unknown type or attribute 'b_t'",
        "  bad.te:3:20: unknown permission 'nope' of class argo (expected one of enable, register_single_source, register_any_source, send)",
      ],
    );
  });
});

describe("hypervisor fleet flags", () => {
  test("--listen accepts a unix: socket path as well as HOST:PORT", () => {
    assert.equal(
      parse(["--listen", "unix:/run/hmx/guest.sock"]).listen,
      "unix:/run/hmx/guest.sock",
    );
    assert.ok(
      problems(["--listen", "unix:relative.sock"]).some((p) => p.includes("unix:relative.sock")),
    );
  });

  test("--enrolment-template takes its token from HMX_ENROLMENT_TOKEN_<NAME>", () => {
    const c = parse(["--enrolment-template", "guest:guest_t:16M:64"], {
      HMX_ENROLMENT_TOKEN_GUEST: "abcdefghijklmnopqrstuvwxyz",
    });
    assert.deepEqual(c.enrolmentTemplates, [
      {
        name: "guest",
        label: "guest_t",
        memoryBytes: 16 * 1024 * 1024,
        maxDomains: 64,
        token: "abcdefghijklmnopqrstuvwxyz",
      },
    ]);
  });

  test("a template without its token, or malformed, is a problem naming the variable or the value", () => {
    assert.ok(
      problems(["--enrolment-template", "guest:guest_t:16M:64"]).some((p) =>
        p.includes("HMX_ENROLMENT_TOKEN_GUEST"),
      ),
    );
    assert.ok(
      problems(["--enrolment-template", "guest:guest_t:5000:64"], {
        HMX_ENROLMENT_TOKEN_GUEST: "abcdefghijklmnopqrstuvwxyz",
      }).some((p) => p.includes("guest:guest_t:5000:64")),
    );
  });

  describe("--enrolment-devices", () => {
    const TOKENS = {
      HMX_ENROLMENT_TOKEN_GUEST: "abcdefghijklmnopqrstuvwxyz",
      HMX_ENROLMENT_TOKEN_VBACKEND: "zyxwvutsrqponmlkjihgfedcba",
    };
    const templates = [
      "--enrolment-template",
      "guest:guest_t:16M:64",
      "--enrolment-template",
      "vbackend:vbackend_t:32M:1",
    ];

    test("a rule names a front-end template, a one-domain back-end template and device types in order", () => {
      const c = parse(
        [...templates, "--enrolment-devices", "guest:vbackend:console,blk,net"],
        TOKENS,
      );
      assert.deepEqual(c.enrolmentDevices, [
        {
          frontendTemplate: "guest",
          backendTemplate: "vbackend",
          types: ["console", "blk", "net"],
        },
      ]);
    });

    test("a rule naming an unknown template, a back end allowing more than one domain, itself, a bad or repeated type is refused naming it", () => {
      const cases: [string, string][] = [
        ["guest:nobody:blk", '"nobody"'],
        ["nobody:vbackend:blk", '"nobody"'],
        ["vbackend:guest:blk", "must allow exactly one domain (MAX 1), not 64"],
        ["vbackend:vbackend:blk", "cannot serve devices to itself"],
        ["guest:vbackend:blk,gpu", 'device type "gpu"'],
        ["guest:vbackend:blk,blk", "device type blk is given twice"],
        ["guest/vbackend", '"guest/vbackend"'],
      ];
      for (const [rule, expected] of cases) {
        const found = problems([...templates, "--enrolment-devices", rule], TOKENS);
        assert.ok(
          found.some((p) => p.includes(expected)),
          `${rule}: expected a problem mentioning ${expected}, got ${JSON.stringify(found)}`,
        );
      }
    });

    test("the same front-end/back-end pair twice is refused", () => {
      const found = problems(
        [
          ...templates,
          "--enrolment-devices",
          "guest:vbackend:blk",
          "--enrolment-devices",
          "guest:vbackend:net",
        ],
        TOKENS,
      );
      assert.ok(found.some((p) => p.includes("guest already gets devices from vbackend")));
    });
  });

  test("--grace-period must be a positive number of seconds", () => {
    assert.equal(parse(["--grace-period", "2.5"]).gracePeriodMs, 2500);
    assert.ok(problems(["--grace-period", "0"]).some((p) => p.includes('"0"')));
  });
});

describe("hypervisor admission flags and the admin token file", () => {
  test("the admission limits default as docs/security.md says and each flag sets its own", () => {
    assert.deepEqual(parse([]).admission, {
      maxRequestBytes: 16 * 1024 * 1024 + 64 * 1024,
      maxStreamsPerConnection: 256,
      maxUnauthenticatedConnections: 64,
      unauthenticatedConnectionMs: 10_000,
      maxRefusedCallsPerConnection: 16,
    });
    const c = parse([
      "--max-request-bytes",
      "1M",
      "--max-streams-per-connection",
      "32",
      "--max-unauthenticated-connections",
      "8",
      "--unauthenticated-connection-timeout",
      "2.5",
      "--max-refused-calls-per-connection",
      "4",
    ]);
    assert.deepEqual(c.admission, {
      maxRequestBytes: 1024 * 1024,
      maxStreamsPerConnection: 32,
      maxUnauthenticatedConnections: 8,
      unauthenticatedConnectionMs: 2500,
      maxRefusedCallsPerConnection: 4,
    });
  });

  test("bad admission values are ConfigErrors naming the flag and the value", () => {
    const found = problems([
      "--max-request-bytes",
      "17M",
      "--max-streams-per-connection",
      "0",
      "--max-unauthenticated-connections",
      "lots",
      "--unauthenticated-connection-timeout",
      "7200",
      "--max-refused-calls-per-connection",
      "99999999",
    ]);
    for (const [flag, value] of [
      ["--max-request-bytes", String(17 * 1024 * 1024)],
      ["--max-streams-per-connection", '"0"'],
      ["--max-unauthenticated-connections", '"lots"'],
      ["--unauthenticated-connection-timeout", '"7200"'],
      ["--max-refused-calls-per-connection", '"99999999"'],
    ] as const) {
      assert.ok(
        found.some((p) => p.startsWith(`${flag} ${value}`)),
        `${flag} ${value} in ${found.join(" | ")}`,
      );
    }
  });

  test("--admin-token-file naming a .env full of secrets is refused without echoing any of them", () => {
    const env = "HMX_ADMIN_TOKEN=first-secret-0123456789\nDB_PASSWORD=second-secret-abcdef\n";
    const found = parseProblems(["--admin-token-file", ".env"], { ".env": env });
    assert.equal(found.length, 1, found.join(" | "));
    assert.match(found[0] ?? "", /^--admin-token-file "\.env": .*more than one line/);
    for (const secret of ["first-secret", "second-secret", "DB_PASSWORD", "HMX_ADMIN_TOKEN="]) {
      assert.ok(!(found[0] ?? "").includes(secret), `the error echoes ${secret}`);
    }
  });
});

/** Problems of a configuration that has no HMX_ADMIN_TOKEN in its environment. */
function parseProblems(argv: string[], files: Record<string, string>): string[] {
  try {
    parseHypervisorConfig({
      argv,
      env: {},
      readFile: (p) => {
        const text = files[p];
        if (text === undefined) throw new Error(`ENOENT: no such file '${p}'`);
        return text;
      },
    });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  assert.fail("expected a ConfigError");
}
describe("per-domain budget flags", () => {
  test("the held-bytes budget, resume-log bytes and scheduler slice default to 64M, 16M and 1M", () => {
    const c = parse([]);
    assert.equal(c.domainHeldBytes, 64 * 1024 * 1024);
    assert.equal(c.resumeLogMaxBytes, 16 * 1024 * 1024);
    assert.equal(c.scheduleSliceUnits, 1024 * 1024);
  });

  test("each is set by its flag or environment variable", () => {
    const c = parse(["--domain-held-bytes", "128M", "--schedule-slice", "256K"], {
      HMX_RESUME_LOG_BYTES: "8M",
    });
    assert.equal(c.domainHeldBytes, 128 * 1024 * 1024);
    assert.equal(c.scheduleSliceUnits, 256 * 1024);
    assert.equal(c.resumeLogMaxBytes, 8 * 1024 * 1024);
  });

  test("a resume log not below the held-bytes budget is refused, naming both values", () => {
    assert.match(
      problems(["--resume-log-bytes", "64M", "--domain-held-bytes", "64M"]).join("\n"),
      /--resume-log-bytes 67108864 must be below --domain-held-bytes 67108864/,
    );
  });

  test("a size that is not one is refused, naming the flag and the value", () => {
    assert.match(
      problems(["--domain-held-bytes", "lots"]).join("\n"),
      /--domain-held-bytes "lots": expected a positive size/,
    );
  });
});

describe("link-fault flags", () => {
  test("no fault flag, no fault layer (nothing changes)", () => {
    assert.equal(parse([]).linkFaults, undefined);
  });

  test("--toxiproxy-listen turns the layer on with the given seed", () => {
    assert.deepEqual(
      parse(["--toxiproxy-listen", "127.0.0.1:8474", "--fault-seed", "42"]).linkFaults,
      { seed: 42, toxiproxyListen: "127.0.0.1:8474" },
    );
    assert.equal(parse(["--link-faults", "--fault-seed", "7"]).linkFaults?.seed, 7);
  });

  test("the unauthenticated API binds beyond loopback only with --toxiproxy-allow-remote", () => {
    const found = problems(["--toxiproxy-listen", "0.0.0.0:8474"]);
    assert.ok(found.some((p) => p.includes("0.0.0.0 is not a loopback address")));
    assert.equal(
      parse(["--toxiproxy-listen", "0.0.0.0:8474", "--toxiproxy-allow-remote"]).linkFaults
        ?.toxiproxyListen,
      "0.0.0.0:8474",
    );
  });

  test("a bad seed or API address is named with its limit", () => {
    assert.ok(
      problems(["--link-faults", "--fault-seed", "4294967296"]).some((p) =>
        p.includes('--fault-seed "4294967296": expected an integer in 0..4294967295'),
      ),
    );
    assert.ok(problems(["--toxiproxy-listen", "unix:/x"]).some((p) => p.includes('"unix:/x"')));
  });
});

describe("history flags", () => {
  test("--history-from-boot records for the HTTP listener or the file, and is refused alone", () => {
    assert.equal(
      parse(["--http-listen", "127.0.0.1:0", "--history-from-boot"]).historyFromBoot,
      true,
    );
    assert.equal(parse(["--http-listen", "127.0.0.1:0"]).historyFromBoot, undefined);
    assert.ok(
      problems(["--history-from-boot"]).some((p) =>
        p.includes("--history-from-boot records for --http-listen or --history-file"),
      ),
    );
  });
});

test("--state-snapshot-bytes defaults to 64M with --state-dir, 0 turns snapshots off, and a bad value or a missing --state-dir is named", () => {
  assert.equal(parse(["--state-dir", "/s"]).stateSnapshotBytes, 64 * 1024 * 1024);
  assert.equal(parse(["--state-dir", "/s", "--state-snapshot-bytes", "0"]).stateSnapshotBytes, 0);
  assert.equal(
    parse(["--state-dir", "/s"], { HMX_STATE_SNAPSHOT_BYTES: "1M" }).stateSnapshotBytes,
    1024 * 1024,
  );
  assert.match(
    problems(["--state-dir", "/s", "--state-snapshot-bytes", "lots"]).join("\n"),
    /--state-snapshot-bytes "lots": expected a positive size/,
  );
  assert.match(
    problems(["--state-snapshot-bytes", "1M"]).join("\n"),
    /--state-snapshot-bytes needs --state-dir/,
  );
});
