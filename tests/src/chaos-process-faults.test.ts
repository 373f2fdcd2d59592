// SPDX-License-Identifier: Apache-2.0
/**
 * Process faults under `hmx up --restart-guests` (docs/chaos.md "Process faults"): `hmx chaos
 * kill GUEST` SIGKILLs a guest mid-stream, the supervisor restarts it, it resumes its domain from
 * its state dir, and the sink's stream checks still pass; `hmx chaos stop streamer --for 1s`
 * pauses the sender and continues it. hmx up's own checks pass at the end: a guest restarted
 * counts as running.
 *
 * Killing the sink itself works the same way: its checker's progress is kept in its guest memory
 * with every rx store (docs/state-guests.md), so the restarted sink continues its counts where
 * the ring's rx_ptr says it stopped and reports no false loss (issue 11 item 1).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { HMX_BIN } from "@hmx/cli/supervisor";
import { HmxUpRun, stat } from "./hmx-up-run.js";

async function killRestartAndCheck(victim: string): Promise<void> {
  const run = new HmxUpRun(["--no-virtio", "--restart-guests", "--refresh-ms", "500"]);
  let exitCode: number | null = null;
  try {
    await run.waitFor((s) => stat(s, "sink", "received") > 500, 60_000, "sink traffic");
    const chaos = (...args: string[]) => {
      const r = spawnSync(process.execPath, [HMX_BIN, "chaos", ...args], {
        env: run.env,
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `hmx chaos ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    assert.match(
      chaos("kill", victim),
      new RegExp(`SIGKILL sent to ${victim} \\(pid \\d+\\); hmx up restarts it`),
    );
    const exited = () =>
      run.records.findIndex(
        (r) =>
          r["msg"] === "event" &&
          r["source"] === victim &&
          String(r["text"]).includes("guest exited (signal SIGKILL); restarting"),
      );
    await run.waitFor(() => exited() >= 0, 30_000, `${victim}'s exit and restart`);
    const base = await run.waitFor(
      (s) => run.records.lastIndexOf(s as never) > exited() && s.guests[victim]?.ready === true,
      60_000,
      `a status after the restart with ${victim} ready`,
    );
    assert.match(chaos("stop", "streamer", "--for", "1s"), /stopped for 1000ms, then continued/);
    const after = await run.waitFor(
      (s) => stat(s, "sink", "received") > stat(base, "sink", "received") + 1000,
      90_000,
      `the stream flowing again after ${victim} restarted`,
    );
    for (const key of ["lost", "duplicates", "reordered", "malformed"])
      assert.equal(stat(after, "sink", key), 0, `the sink saw no ${key}`);
  } finally {
    exitCode = await run.stop();
  }
  assert.equal(exitCode, 0, `hmx up's checks pass; output:\n${run.output.slice(-3000)}`);
}

test(
  "a guest killed by hmx chaos kill is restarted by hmx up and the sink's checks still pass",
  { timeout: 300_000 },
  () => killRestartAndCheck("streamer"),
);

test(
  "a sink killed by hmx chaos kill resumes its checker and reports no false loss",
  { timeout: 300_000 },
  () => killRestartAndCheck("sink"),
);
