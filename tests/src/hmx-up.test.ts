// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx up`, the embedded default, as a user runs it: it starts a hypervisor and a fleet of
 * guest processes, says which Argo mode it runs in, shows live status (a plain line per
 * refresh when stdout is not a terminal), and Ctrl-C stops everything with no process left.
 * This runs the Argo guests alone (`--no-virtio`); hmx-up-virtio.test.ts runs the whole default.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { HMX_BIN } from "@hmx/cli/supervisor";
import { processesWithMarker } from "@hmx/testkit";

test("hmx up --no-virtio runs a live fleet, reports it, and Ctrl-C stops every process it started", async () => {
  const marker = randomUUID();
  const child = spawn(process.execPath, [HMX_BIN, "up", "--no-virtio", "--refresh-ms", "500"], {
    env: { ...process.env, HMX_TEST_MARKER: marker },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      resolve(code);
    });
  });
  try {
    // Wait (bounded) until the sink has proven traffic arrived intact and the pinger has RTTs:
    // the guests report every half second, each on its own schedule.
    const deadline = Date.now() + 30_000;
    while (!(/sink\[[^\]]*received [1-9]/.test(out) && /pinger\[[^\]]*rtt p50/.test(out))) {
      if (Date.now() > deadline)
        throw new Error(`no sink traffic and ping RTTs within 30 s; output:\n${out}`);
      if (child.exitCode !== null)
        throw new Error(`hmx up exited early (${child.exitCode}):\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(out, /Argo mode: mac-permissive/);
    assert.match(out, /4 domains, [3-9] rings/);
    assert.match(out, /pinger\[[^\]]*rtt p50/);
    assert.doesNotMatch(
      out,
      /sink\[[^\]]*(gaps|duplicates|reordered) [1-9]/,
      "the sink saw no loss, duplicate or reorder",
    );
  } finally {
    child.kill("SIGINT");
  }
  assert.equal(await exited, 0, `hmx up exit code; output:\n${out}`);
  assert.match(out, /hmx up: stopped/);
  assert.deepEqual(processesWithMarker(marker), [], "no hypervisor or guest process left behind");
});
