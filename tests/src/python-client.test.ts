// SPDX-License-Identifier: Apache-2.0
/**
 * The Python client (clients/python) and the example harness (examples/python-harness) against a
 * real hypervisor process, with Debian's python3-grpcio (issue 12: clients beyond TypeScript).
 * The checked-in stubs must match what protoc makes of today's .proto files.
 */
import { Testbed } from "@hmx/testkit";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CLIENT_DIR = join(REPO, "clients", "python");
const HARNESS_DIR = join(REPO, "examples", "python-harness");

/** A Python that can import grpc and protobuf (HMX_PYTHON, else Debian's, else PATH's), or why not. */
function findPython(): { python: string } | { missing: string } {
  const candidates = [process.env["HMX_PYTHON"], "/usr/bin/python3", "python3"].filter(
    (p): p is string => !!p,
  );
  for (const python of candidates) {
    const probe = spawnSync(python, ["-c", "import grpc, google.protobuf, websockets"], {
      encoding: "utf8",
    });
    if (probe.status === 0) return { python };
  }
  return {
    missing: `no Python with grpc, protobuf and websockets among ${candidates.join(", ")} (apt-get install python3-grpcio python3-protobuf python3-websockets)`,
  };
}

function haveProtoc(): boolean {
  return (
    spawnSync("protoc", ["--version"]).status === 0 &&
    spawnSync("test", ["-x", "/usr/bin/grpc_python_plugin"]).status === 0
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".py"))
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

test("the checked-in Python stubs are what protoc generates from today's .proto files", (t) => {
  if (!haveProtoc()) {
    t.skip(
      "protoc or grpc_python_plugin missing (apt-get install protobuf-compiler protobuf-compiler-grpc)",
    );
    return;
  }
  const out = mkdtempSync(join(tmpdir(), "hmx-pygen-"));
  try {
    execFileSync(
      process.execPath,
      [join(REPO, "proto", "scripts", "gen-python.mjs"), "--out", out],
      { stdio: "pipe" },
    );
    for (const pkg of ["hmx/argo", "hmx/toolstack"]) {
      const fresh = filesUnder(join(out, pkg));
      assert.deepEqual(filesUnder(join(CLIENT_DIR, pkg)), fresh, `${pkg}: the same files`);
      for (const file of fresh) {
        const same = readFileSync(join(out, pkg, file)).equals(
          readFileSync(join(CLIENT_DIR, pkg, file)),
        );
        assert.ok(same, `${pkg}/${file} is stale: run npm run gen:python`);
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

describe("the Python client against a real hypervisor", () => {
  const found = findPython();
  let bed: Testbed;
  before(async () => {
    // Xen's default (strict) Argo; a small history window so the history tests can overrun it.
    if ("python" in found)
      bed = await Testbed.start([
        "--http-listen",
        "127.0.0.1:0",
        "--history-window",
        "64",
        "--history-from-boot",
      ]);
  });
  after(async () => {
    if ("python" in found) await bed.stopAll();
  });

  function python(args: string[], cwd: string): { status: number | null; out: string } {
    if (!("python" in found)) throw new Error(found.missing);
    const env = {
      ...process.env,
      HMX_TEST_LISTEN: bed.listen,
      HMX_TEST_CONTROL: bed.controlListen,
      HMX_TEST_HTTP: String(bed.hypervisor.last("hypervisor ready")?.["httpListen"]),
      HMX_ADMIN_TOKEN: bed.adminToken,
    };
    const r = spawnSync(found.python, args, { cwd, env, encoding: "utf8", timeout: 120_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  test("the client's own tests pass: rings, sendv, errnos, credentials", (t) => {
    if ("missing" in found) {
      t.skip(found.missing);
      return;
    }
    const { status, out } = python(["-m", "unittest", "discover", "-s", "tests", "-v"], CLIENT_DIR);
    assert.equal(status, 0, out);
    const ran = Number(/^Ran (\d+) tests?/m.exec(out)?.[1]);
    assert.ok(ran >= 10, `ran ${ran} tests: ${out}`);
    assert.doesNotMatch(out, /skipped/, "none skipped: they ran against the hypervisor");
  });

  test("the example harness sends, reads back and checks 400 messages, and writes JUnit", (t) => {
    if ("missing" in found) {
      t.skip(found.missing);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "hmx-harness-"));
    try {
      const junit = join(dir, "report.xml");
      const args = [
        "harness.py",
        "--listen",
        bed.listen,
        "--control",
        bed.controlListen,
        "--messages",
        "400",
        "--junit",
        junit,
      ];
      const { status, out } = python(args, HARNESS_DIR);
      assert.equal(status, 0, out);
      assert.match(out, /messages=400 received=400/);
      const xml = readFileSync(junit, "utf8");
      assert.match(xml, /<testsuite name="hmx-python-harness" tests="4" failures="0">/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the example harness's checks fail on planted loss, duplication, reordering and a foreign source", (t) => {
    if ("missing" in found) {
      t.skip(found.missing);
      return;
    }
    const { status, out } = python(["-m", "unittest", "test_harness", "-v"], HARNESS_DIR);
    assert.equal(status, 0, out);
    assert.match(out, /^Ran 9 tests/m);
  });

  test("the example harness injects a latency fault mid-run through the Toxiproxy API and finds its start and end around the traffic in the history", async (t) => {
    if ("missing" in found) {
      t.skip(found.missing);
      return;
    }
    // Its own hypervisor: the fault needs the relay, and the whole run must fit the window.
    const faulty = await Testbed.start([
      "--toxiproxy-listen",
      "127.0.0.1:0",
      "--http-listen",
      "127.0.0.1:0",
      "--history-from-boot",
    ]);
    const dir = mkdtempSync(join(tmpdir(), "hmx-harness-"));
    try {
      const ready = faulty.hypervisor.last("hypervisor ready");
      const junit = join(dir, "report.xml");
      const r = spawnSync(
        found.python,
        [
          "harness.py",
          "--listen",
          faulty.listen,
          "--control",
          faulty.controlListen,
          "--messages",
          "150",
          "--toxiproxy",
          String(ready?.["toxiproxyListen"]),
          "--http",
          String(ready?.["httpListen"]),
          "--junit",
          junit,
        ],
        {
          cwd: HARNESS_DIR,
          env: { ...process.env, HMX_ADMIN_TOKEN: faulty.adminToken },
          encoding: "utf8",
          timeout: 120_000,
        },
      );
      const out = `${r.stdout}${r.stderr}`;
      assert.equal(r.status, 0, out);
      assert.match(out, /^ok {3}fault start and end around the traffic$/m);
      assert.match(readFileSync(junit, "utf8"), /tests="5" failures="0"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await faulty.stopAll();
    }
  });
});
