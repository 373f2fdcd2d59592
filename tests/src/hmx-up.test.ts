// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx up`, the embedded default, as a user runs it: it starts a hypervisor and a fleet of
 * guest processes, says which Argo mode it runs in, reports live status (`--json` here, one
 * object per refresh), and Ctrl-C stops everything with no process and no file left. Its
 * secrets reach the children as files in the private per-run directory, never in an environment
 * (readable from /proc/<pid>/environ). This runs the Argo guests alone (`--no-virtio`);
 * hmx-up-virtio.test.ts runs the whole default.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { test } from "node:test";
import { HMX_BIN } from "@hmx/cli/supervisor";
import { processesWithMarker } from "@hmx/testkit";
import { HmxUpRun, stat, type UpPointer } from "./hmx-up-run.js";

test("hmx up --no-virtio runs a live fleet, reports it, and Ctrl-C stops every process it started and removes its files", async () => {
  const run = new HmxUpRun(["--no-virtio", "--refresh-ms", "500"]);
  let pointer: UpPointer | undefined;
  try {
    // Wait (bounded) until the sink has proven traffic arrived intact and the pinger has RTTs:
    // the guests report every half second, each on its own schedule.
    const s = await run.waitFor(
      (st) => stat(st, "sink", "received") > 0 && stat(st, "pinger", "rttP50Us") > 0,
      30_000,
      "sink traffic and ping RTTs",
    );
    assert.equal(run.records[0]?.["argo"], "mac-permissive");
    assert.equal(s.domains.length, 4);
    assert.ok(s.rings >= 3, `rings: ${s.rings}`);
    for (const key of ["gaps", "duplicates", "reordered"])
      assert.equal(stat(s, "sink", key), 0, `the sink saw no ${key}`);

    pointer = run.pointer();
    assert.equal(statSync(pointer.runDir).mode & 0o777, 0o700, "the run directory is private");
    assert.equal(statSync(pointer.adminTokenFile).mode & 0o777, 0o600);
    const token = readFileSync(pointer.adminTokenFile, "utf8").trim();
    const pids = processesWithMarker(run.marker);
    assert.ok(pids.length >= 5, `hmx up, its hypervisor and four guests: ${pids.length} processes`);
    for (const pid of pids) {
      const environ = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      assert.deepEqual(
        environ.filter((v) => /^HMX_(ADMIN_TOKEN|DOMAIN_CREDENTIAL|ENROLMENT_TOKEN)/.test(v)),
        [],
        `pid ${pid} has no secret variable`,
      );
      assert.ok(
        !environ.join("\n").includes(token),
        `pid ${pid}'s environment holds no admin token`,
      );
    }
    // The admin commands of the same checkout reach this run's toolstack with no flag.
    const show = spawnSync(process.execPath, [HMX_BIN, "policy", "show"], {
      env: run.env,
      encoding: "utf8",
    });
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /^xsm module: flask$/m);
  } finally {
    assert.equal(await run.stop(), 0, `hmx up exit code; output:\n${run.output}`);
  }
  assert.equal(run.records.at(-1)?.["msg"], "stopped");
  assert.deepEqual(
    processesWithMarker(run.marker),
    [],
    "no hypervisor or guest process left behind",
  );
  assert.equal(existsSync(pointer.runDir), false, "the run directory is removed");
  assert.equal(existsSync(run.pointerFile), false, "and so is the pointer to it");
});
