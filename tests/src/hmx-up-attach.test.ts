// SPDX-License-Identifier: Apache-2.0
/**
 * Attaching to a running `hmx up` from another shell, with no flags and no token in the
 * environment (issue 12 item 3): `hmx status --json`, `hmx domain list --json` and `hmx history`
 * find it through its connection file; its history was recorded from boot. Then a guest is
 * killed under it, and `hmx up` exits 1 naming the guest whose check failed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { HMX_BIN } from "@hmx/cli/supervisor";
import { processesWithMarker } from "@hmx/testkit";
import { HmxUpRun, stat } from "./hmx-up-run.js";

test("hmx status, domain and history attach to a running hmx up with no flags; a guest that dies makes hmx up exit 1 naming it", async () => {
  const run = new HmxUpRun(["--no-virtio", "--refresh-ms", "500"]);
  let exitCode: number | null = null;
  try {
    await run.waitFor((st) => stat(st, "sink", "received") > 0, 30_000, "sink traffic");
    // Another shell of the same checkout: only the pointer, no address or token variables.
    const { HMX_ADMIN_TOKEN: _token, HMX_CONTROL: _control, HMX_HTTP: _http, ...env } = run.env;
    const hmx = (...args: string[]) => {
      const r = spawnSync(process.execPath, [HMX_BIN, ...args], {
        env,
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `hmx ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };

    const status = JSON.parse(hmx("status", "--json")) as {
      source: string;
      totals: { domains: number };
      http?: { health: string };
    };
    assert.match(status.source, /^hmx up, pid \d+$/);
    assert.equal(status.totals.domains, 4);
    assert.equal(status.http?.health, "SERVING");

    const names = (JSON.parse(hmx("domain", "list", "--json")) as { name: string }[]).map(
      (d) => d.name,
    );
    assert.deepEqual(names, ["echo", "sink", "pinger", "streamer"]);

    // Recorded from boot: the first four events are the domains hmx up created.
    const created = hmx("history", "--kinds", "domain", "--json")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { seq: number; name: string; event: string });
    assert.deepEqual(
      created.map((e) => [e.seq, e.name, e.event]),
      [
        [1, "echo", "created"],
        [2, "sink", "created"],
        [3, "pinger", "created"],
        [4, "streamer", "created"],
      ],
    );

    // Kill the sink under hmx up: its "running" check must fail.
    const sink = processesWithMarker(run.marker).find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("--workload\0sink\0");
      } catch {
        return false;
      }
    });
    assert.ok(sink !== undefined, "the sink's process");
    process.kill(sink, "SIGKILL");
    await run.waitFor((st) => st.guests["sink"]?.running === false, 20_000, "the sink's death");
  } finally {
    exitCode = await run.stop();
  }
  assert.equal(exitCode, 1, `hmx up exits 1 when a check failed; output:\n${run.output}`);
  const checks = run.records.find((r) => r["msg"] === "checks");
  assert.deepEqual(checks, {
    msg: "checks",
    passed: false,
    failed: [{ guest: "sink", check: "running", detail: "exited during the run" }],
  });
  assert.deepEqual(processesWithMarker(run.marker), [], "no process left behind");
});
