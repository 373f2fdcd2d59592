// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx up` (VirtIO is part of the default) as a user runs it: a back-end guest serves virtio-blk, -net and -console to
 * front-end guests over Argo, found through the gfn-0 table. The live status shows the device
 * traffic: disks written and read back with no mismatch, frames switched, consoles written, and
 * the front end the policy forbids failing its devices cleanly. `hmx console` of the same
 * checkout finds the run's consoles (in its private per-run directory) with no flag.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { HMX_BIN } from "@hmx/cli/supervisor";
import { processesWithMarker } from "@hmx/testkit";
import { HmxUpRun, stat } from "./hmx-up-run.js";

test("hmx up serves disks, a network and consoles across guests, and refuses the forbidden front end", async () => {
  const run = new HmxUpRun(["--refresh-ms", "500"]);
  try {
    const s = await run.waitFor(
      (st) =>
        stat(st, "vbackend", "netFramesSwitched") > 0 &&
        stat(st, "vdemo1", "blkReads") > 0 &&
        stat(st, "vdemo2", "blkReads") > 0 &&
        stat(st, "vbackend", "consoleBytes") > 0,
      60_000,
      "device traffic",
    );
    // The default runs the Argo guests alongside: eight domains, and the sink's stream arrives.
    assert.equal(s.domains.length, 8);
    assert.ok(stat(s, "sink", "received") > 0, "the Argo sink received its stream");
    for (const g of ["vdemo1", "vdemo2"]) {
      assert.equal(
        stat(s, g, "blkVerifyErrors"),
        0,
        `${g}: what was written to disk reads back intact`,
      );
      assert.equal(stat(s, g, "failedDevices"), 0, `${g}: every device probed`);
    }
    // vrogue's label may not use the back end: its disk fails the probe (EACCES), cleanly.
    const rogue = await run.waitFor(
      (st) => stat(st, "vrogue", "failedDevices") > 0,
      30_000,
      "vrogue's failed probe",
    );
    assert.equal(stat(rogue, "vrogue", "blkReads"), 0, "and it never reached the disk");

    const list = spawnSync(process.execPath, [HMX_BIN, "console", "--list"], {
      env: run.env,
      encoding: "utf8",
    });
    assert.equal(list.status, 0, list.stderr);
    assert.match(
      list.stdout,
      /^\d+\s+vdemo1\s+\d+$/m,
      "hmx console --list finds the run's consoles",
    );
    assert.ok(
      run.pointer().consoleDir.startsWith(run.pointer().runDir),
      "inside the per-run directory",
    );
  } finally {
    assert.equal(await run.stop(), 0, `hmx up exit code; output:\n${run.output.slice(-3000)}`);
  }
  assert.deepEqual(processesWithMarker(run.marker), [], "no process left behind");
  const after = spawnSync(process.execPath, [HMX_BIN, "console", "--list"], {
    env: run.env,
    encoding: "utf8",
  });
  assert.equal(after.status, 1);
  assert.match(after.stderr, /no 'hmx up' is running from this checkout/);
});
