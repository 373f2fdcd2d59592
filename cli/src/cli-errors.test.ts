// SPDX-License-Identifier: Apache-2.0
/**
 * The CLI's one error style, checked on the real `hmx` binary: a usage error is exactly one line
 * naming the bad value plus a pointer to `--help` (exit 2), never node's raw parser message nor
 * the whole usage; `--version` prints package.json's version; a port in use is one line, with no
 * stack trace and no grpc-js diagnostic unless `--verbose`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { describeArgsError } from "./parse-command.js";
import { HMX_BIN } from "./up/child-process.js";

function hmx(args: readonly string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [HMX_BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, HMX_VERBOSE: "", GRPC_VERBOSITY: "", ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hmx error style", () => {
  it("node's parseArgs messages become one line naming the flag", () => {
    assert.equal(
      describeArgsError(
        "Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--bogus\"",
      ),
      "unknown option --bogus",
    );
    assert.equal(
      describeArgsError("Option '--duration <value>' argument missing"),
      "--duration needs a value",
    );
    assert.equal(
      describeArgsError("Option '-h, --help' does not take an argument"),
      "--help takes no value",
    );
    assert.match(
      describeArgsError("Option '--tail' argument is ambiguous.\nDid you…"),
      /^--tail needs a value \(.*--tail=VALUE\)$/,
    );
    assert.equal(
      describeArgsError("Unexpected argument 'x'. This command does not take positional arguments"),
      'unexpected argument "x"',
    );
    assert.equal(
      describeArgsError('--port "x": expected an integer'),
      '--port "x": expected an integer',
    );
  });

  const cases: [string[], RegExp][] = [
    [["--bogus"], /^hmx: unknown option --bogus/],
    [["frobnicate"], /^hmx: unknown command "frobnicate" \(commands: up, /],
    [["up", "--bogus"], /^hmx up: unknown option --bogus$/],
    [["up", "--duration"], /^hmx up: --duration needs a value$/],
    [["up", "--duration", "-1"], /^hmx up: --duration needs a value/],
    [["up", "--refresh-ms", "5"], /^hmx up: --refresh-ms "5": expected an integer >= 100$/],
    [["hypervisor", "--bogus"], /^hmx hypervisor: unknown option --bogus$/],
    [["guest", "--bogus"], /^hmx guest: unknown option --bogus$/],
    [["policy", "frobnicate"], /^hmx policy: unknown subcommand "frobnicate"$/],
    [["policy", "show", "--bogus"], /^hmx policy: unknown option --bogus$/],
    [["viptables", "--bogus"], /^hmx viptables: unknown option "--bogus"$/],
    [["console", "a", "b"], /^hmx console: name exactly one guest/],
    [["fleet", "destroy"], /^hmx fleet: expected the subcommand 'init', got "destroy"$/],
  ];
  for (const [args, first] of cases) {
    it(`usage error: hmx ${args.join(" ")} is one line and a --help pointer, exit 2`, () => {
      const r = hmx(args);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 2, `exactly two lines, got:\n${r.stderr}`);
      assert.match(lines[0] ?? "", first);
      const command =
        args[0]?.startsWith("-") === true || args[0] === "frobnicate" ? "" : `${args[0]} `;
      assert.equal(lines[1], `Run 'hmx ${command}--help' for usage.`);
      assert.equal(r.stdout, "");
    });
  }

  it("--version and -V print the root package.json version, exit 0", () => {
    const { version } = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const r = hmx([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `hmx ${version}\n`);
    }
  });

  it("--help lists the exit codes scripts rely on", () => {
    const r = hmx(["--help"]);
    assert.equal(r.code, 0);
    for (const line of [
      /^ {2}0 {2}success/m,
      /^ {2}1 {2}runtime failure/m,
      /^ {2}2 {2}bad usage/m,
      /^ {2}3 {2}'policy check' answered denied/m,
    ])
      assert.match(r.stdout, line);
  });

  it("a port in use is one line with no stack or grpc-js noise; --verbose adds the stack", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const args = [
        "hypervisor",
        "--listen",
        `127.0.0.1:${port}`,
        "--control-listen",
        "127.0.0.1:0",
      ];
      const env = { HMX_ADMIN_TOKEN: "a-test-admin-token-of-enough-length" };
      const r = hmx(args, env);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `hmx hypervisor: cannot listen on 127.0.0.1:${port}: the address is already in use (another hmx hypervisor or hmx up?); choose a free port with --listen / --control-listen, or port 0 for any\n`,
      );
      assert.doesNotMatch(r.stdout, /"stack"|No address added/);
      const verbose = hmx([...args, "--verbose"], env);
      assert.equal(verbose.code, 1);
      // The stack of the failure (the listeners bind through hmx's own admission gate, so
      // grpc-js has no diagnostic of its own to add here).
      assert.match(verbose.stdout, /"stack"/);
    } finally {
      blocker.close();
    }
  });
});
