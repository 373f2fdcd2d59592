// SPDX-License-Identifier: Apache-2.0
/**
 * Driving hmx from Go through its .proto files alone (issue 12: clients beyond TypeScript): the
 * example harness in examples/go-harness is generated with Debian's protoc-gen-go and
 * protoc-gen-go-grpc, built offline with Debian's Go libraries, and run against a real
 * hypervisor process: it creates two domains, sends numbered messages through a ring small enough
 * to fill, reads them back as a guest does, and checks them. Its checks must also fail on
 * planted loss, duplication and reordering.
 */
import { Testbed } from "@hmx/testkit";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const HARNESS_DIR = fileURLToPath(new URL("../../examples/go-harness/", import.meta.url));

/** Why the Go toolchain cannot build the harness here, or undefined when it can. */
function goMissing(): string | undefined {
  const tools = ["go", "protoc", "protoc-gen-go", "protoc-gen-go-grpc"];
  const absent = tools.filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
  if (!existsSync("/usr/share/gocode/src/google.golang.org/grpc")) absent.push("grpc-go sources");
  if (absent.length === 0) return undefined;
  return `${absent.join(", ")} missing (apt-get install golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev protoc-gen-go protoc-gen-go-grpc protobuf-compiler)`;
}

describe("the Go example harness against a real hypervisor", () => {
  const missing = goMissing();
  const dir = mkdtempSync(join(tmpdir(), "hmx-go-"));
  const binary = join(dir, "go-harness");
  let bed: Testbed | undefined;

  before(async () => {
    if (missing !== undefined) return;
    const built = spawnSync(join(HARNESS_DIR, "build.sh"), [binary], {
      encoding: "utf8",
      timeout: 300_000,
    });
    assert.equal(built.status, 0, `build.sh failed: ${built.stdout}${built.stderr}`);
    bed = await Testbed.start([]);
  });
  after(async () => {
    await bed?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  function harness(args: string[]): { status: number | null; out: string } {
    if (bed === undefined) throw new Error("no hypervisor");
    const r = spawnSync(binary, ["-listen", bed.listen, "-control", bed.controlListen, ...args], {
      env: { ...process.env, HMX_ADMIN_TOKEN: bed.adminToken },
      encoding: "utf8",
      timeout: 120_000,
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  test("the Go harness sends 2,000 messages through a ring that fills, reads them back and every check passes", (t) => {
    if (missing !== undefined) {
      t.skip(missing);
      return;
    }
    const { status, out } = harness(["-messages", "2000"]);
    assert.equal(status, 0, out);
    assert.match(out, /messages=2000 received=2000 eagain=[1-9]/, "the ring filled at least once");
    for (const check of [
      "no loss",
      "no duplication",
      "per-pair FIFO",
      "source stamped by the hypervisor",
    ])
      assert.match(out, new RegExp(`^ok   ${check}$`, "m"));
  });

  test("the Go harness's checks fail on planted loss, duplication and reordering", (t) => {
    if (missing !== undefined) {
      t.skip(missing);
      return;
    }
    const planted = {
      drop: /FAIL no loss: 1 missing/,
      dup: /FAIL no duplication: 1 duplicated/,
      swap: /FAIL per-pair FIFO: 1 out of order/,
    };
    for (const [how, failure] of Object.entries(planted)) {
      const { status, out } = harness(["-messages", "50", "-plant", how]);
      assert.equal(status, 1, `-plant ${how}: ${out}`);
      assert.match(out, failure);
    }
  });

  test("a wrong admin token is refused by the toolstack and the harness says so (exit 2)", (t) => {
    if (missing !== undefined) {
      t.skip(missing);
      return;
    }
    if (bed === undefined) throw new Error("no hypervisor");
    const r = spawnSync(binary, ["-listen", bed.listen, "-control", bed.controlListen], {
      env: { ...process.env, HMX_ADMIN_TOKEN: "not-the-token" },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Unauthenticated/);
  });
});
