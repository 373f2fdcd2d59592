// SPDX-License-Identifier: Apache-2.0
/**
 * The per-run directory of `hmx up`: private (0700) under $XDG_RUNTIME_DIR or the temp dir,
 * secrets in 0600 files, removed with its pointer when the run ends — and a pointer whose
 * process is gone is ignored. Children do not inherit the parent's secret variables.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { childEnvironment } from "./child-process.js";
import { readUpPointer, RunDir, runtimeRoot, upPointerFile } from "./run-dir.js";

describe("hmx up's per-run directory", () => {
  const root = mkdtempSync(join(tmpdir(), "hmx-run-dir-test-"));
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("lives under $XDG_RUNTIME_DIR when set (absolute), else the OS temp dir", () => {
    assert.equal(runtimeRoot({ XDG_RUNTIME_DIR: "/run/user/1000" }), "/run/user/1000");
    assert.equal(runtimeRoot({ XDG_RUNTIME_DIR: "relative" }), tmpdir());
    assert.equal(runtimeRoot({}), tmpdir());
  });

  it("is private, holds secrets in 0600 files, and is removed with its pointer", () => {
    const run = new RunDir(root);
    const pointer = join(root, "up.json");
    assert.equal(statSync(run.path).mode & 0o777, 0o700);
    const secret = run.writeSecret("admin-token", "s3cret");
    assert.equal(statSync(secret).mode & 0o777, 0o600);
    assert.equal(readFileSync(secret, "utf8"), "s3cret\n");
    run.publish(
      { consoleDir: run.dir("console"), control: "127.0.0.1:1", adminTokenFile: secret },
      pointer,
    );
    assert.doesNotMatch(readFileSync(pointer, "utf8"), /s3cret/, "the pointer holds no secret");
    assert.deepEqual(readUpPointer(pointer), {
      pid: process.pid,
      runDir: run.path,
      consoleDir: join(run.path, "console"),
      control: "127.0.0.1:1",
      adminTokenFile: secret,
    });
    run.remove();
    assert.equal(existsSync(run.path), false);
    assert.equal(existsSync(pointer), false);
    run.remove(); // idempotent
  });

  it("leaves a pointer that another run has since replaced", () => {
    const first = new RunDir(root);
    const second = new RunDir(root);
    const pointer = join(root, "up.json");
    const target = { consoleDir: "/c", control: "127.0.0.1:1", adminTokenFile: "/t" };
    first.publish(target, pointer);
    second.publish(target, pointer);
    first.remove();
    assert.equal(readUpPointer(pointer)?.runDir, second.path);
    second.remove();
    assert.equal(existsSync(pointer), false);
  });

  it("ignores a pointer whose process is gone", () => {
    const pointer = join(root, "stale.json");
    // pid 2^22 + 1 is above Linux's pid_max limit, so no process has it.
    writeFileSync(
      pointer,
      JSON.stringify({
        pid: 4194305,
        runDir: "/gone",
        consoleDir: "/gone",
        control: "x:1",
        adminTokenFile: "/gone",
      }),
    );
    assert.equal(readUpPointer(pointer), undefined);
    assert.equal(readUpPointer(join(root, "missing.json")), undefined);
  });

  it("the pointer file defaults to the checkout's .hmx/up.json; HMX_UP_POINTER overrides it", () => {
    assert.match(upPointerFile({}), /\/\.hmx\/up\.json$/);
    assert.equal(upPointerFile({ HMX_UP_POINTER: "/x/p.json" }), "/x/p.json");
  });

  it("a child inherits no secret variable of its parent, only those passed to it", () => {
    const env = childEnvironment(
      { HMX_DOMAIN_CREDENTIAL: "given" },
      {
        PATH: "/bin",
        HMX_ADMIN_TOKEN: "a",
        HMX_DOMAIN_CREDENTIAL: "b",
        HMX_ENROLMENT_TOKEN: "c",
        HMX_ENROLMENT_TOKEN_WORKER: "d",
        HMX_LOG_LEVEL: "info",
      },
    );
    assert.deepEqual(env, {
      PATH: "/bin",
      HMX_LOG_LEVEL: "info",
      HMX_DOMAIN_CREDENTIAL: "given",
      HMX_EXIT_WITH_PARENT: "1",
    });
  });
});
