// SPDX-License-Identifier: Apache-2.0
/**
 * The test runner (`scripts/run-tests.mjs`, what `npm test` runs) must turn a hang into a named
 * failure well before CI's own limit (issue 17). A scratch tree holds a test file whose test
 * passes and then leaves a handle that makes its process spin in Node's exit cleanup forever
 * (the shape of the original hang), next to a healthy file; the runner runs that tree with short
 * limits.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const RUNNER = fileURLToPath(new URL("../../scripts/run-tests.mjs", import.meta.url));

// A socket reset while its own shutdown is in flight: Node marks the handle closing although
// libuv refused to close it, so the process never finishes exiting.
const HANGING_FILE = `
import { test } from "node:test";
import net from "node:net";
test("passes, then leaves a handle that spins at exit", async () => {
  await new Promise((resolve) => {
    let client;
    const server = net.createServer((s) => {
      const handle = s._handle;
      const shutdown = handle.shutdown.bind(handle);
      handle.shutdown = (req) => {
        const r = shutdown(req);
        queueMicrotask(() => { s.on("error", () => {}); s.resetAndDestroy(); server.close(); client.destroy(); resolve(); });
        return r;
      };
      s.end();
    });
    server.listen(0, "127.0.0.1", () => {
      client = net.connect(server.address().port, "127.0.0.1");
      client.on("error", () => {});
    });
  });
});
`;
const HEALTHY_FILE = `import { test } from "node:test";\ntest("healthy", () => {});\n`;

const scratch = mkdtempSync(join(tmpdir(), "hmx-runner-test-"));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

async function runRunner(
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  // Without NODE_TEST_CONTEXT, which would make the nested runner think it runs inside a test.
  const { NODE_TEST_CONTEXT: _, ...parentEnv } = process.env;
  const child = spawn(process.execPath, [RUNNER], {
    env: { ...parentEnv, HMX_TEST_ROOT: scratch, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const collect = (d: Buffer): void => {
    out += d.toString();
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  // Far beyond the limits given below: if this fires, the runner itself hung.
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(killer);
  return { code, out };
}

test("a test file that hangs at exit is killed at its limit, named, and fails the run", async () => {
  mkdirSync(join(scratch, "tests", "dist"), { recursive: true });
  writeFileSync(join(scratch, "tests", "dist", "hangs.test.js"), HANGING_FILE);
  writeFileSync(join(scratch, "tests", "dist", "healthy.test.js"), HEALTHY_FILE);
  const { code, out } = await runRunner({ HMX_TEST_TIMEOUT_S: "3" });
  assert.equal(code, 1, out);
  assert.match(out, /TIMED OUT \S*hangs\.test\.js/, out);
  assert.doesNotMatch(out, /TIMED OUT \S*healthy\.test\.js/, out);
  assert.match(out, /^# pass 2$/m, "both tests themselves passed; the file's hang is what failed");
});

test("a run that exceeds its overall limit is killed and the files still running are named", async () => {
  const { code, out } = await runRunner({ HMX_TEST_TIMEOUT_S: "30", HMX_TEST_RUN_LIMIT_S: "2" });
  assert.notEqual(code, 0, out);
  assert.match(
    out,
    /exceeded 2 s; killing it\. Test files still running:\n\s+\S*hangs\.test\.js/,
    out,
  );
});

test("a limit that is not a whole number of seconds is refused, naming the variable and value", async () => {
  const { code, out } = await runRunner({ HMX_TEST_TIMEOUT_S: "10m" });
  assert.equal(code, 2);
  assert.match(out, /HMX_TEST_TIMEOUT_S="10m" is not a positive whole number of seconds/);
});
