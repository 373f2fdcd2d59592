// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx up` keeps its fleet through a hypervisor crash (issue 13 item 2): its hypervisor is
 * SIGKILLed mid-run, the supervisor restarts it on the same ports with the run's state dir, and
 * every guest carries on — the sink's numbered stream keeps arriving with nothing lost,
 * duplicated or reordered, and no guest exits. Marked todo, with the reason, while this build's
 * `hmx hypervisor` has no `--state-dir` (without one the restarted hypervisor knows no domain
 * and every guest exits 4: fleet-hypervisor-restart.test.ts shows that path).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { HmxUpRun, stat } from "./hmx-up-run.js";
import { stateDirTodo } from "./fleet-restart-harness.js";

/** The pid of the `hmx hypervisor` child of process `parent`. */
function hypervisorChildOf(parent: number): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (ppid === parent && argv.includes("hypervisor")) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no hmx hypervisor child of pid ${parent}`);
}

test(
  "hmx up restarts a SIGKILLed hypervisor on the same ports with its state dir, and every guest carries on with nothing lost",
  { todo: stateDirTodo(), timeout: 300_000 },
  async () => {
    const run = new HmxUpRun(["--refresh-ms", "500"]);
    try {
      const busy = await run.waitFor(
        (s) => stat(s, "sink", "received") > 200 && stat(s, "vdemo1", "blkWrites") > 0,
        60_000,
        "sink traffic and virtio disk writes",
      );
      const pid = run.child.pid ?? 0;
      const hypervisor = hypervisorChildOf(pid);
      process.kill(hypervisor, "SIGKILL");
      const restarted = () =>
        run.records.findIndex(
          (r) => r["msg"] === "event" && String(r["text"]).includes("hypervisor restarted"),
        );
      await run.waitFor(() => restarted() >= 0, 60_000, "the supervisor's restart event");
      assert.notEqual(hypervisorChildOf(pid), hypervisor, "a new hypervisor process");
      // Progress counted from a status printed after the restart: stats logged before the
      // kill, or by guests on their way out, prove nothing.
      const base = await run.waitFor(
        (s) => run.records.lastIndexOf(s as never) > restarted(),
        30_000,
        "a status after the restart",
      );
      // (The virtio disk across a restart waits for the state dir to keep device placements:
      // fleet-hypervisor-restart.test.ts has that todo.)
      const after = await run.waitFor(
        (s) =>
          stat(s, "sink", "received") > stat(base, "sink", "received") + 200 &&
          stat(s, "pinger", "received") > stat(base, "pinger", "received") + 5,
        90_000,
        "stream and ping traffic after the restart",
      );
      assert.deepEqual(
        after.domains.map((d) => d.name).sort(),
        busy.domains.map((d) => d.name).sort(),
        "the restarted hypervisor has every domain",
      );
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const last = run.status ?? after;
      for (const [name, g] of Object.entries(last.guests))
        assert.equal(g.running, true, `${name} still runs`);
      for (const key of ["gaps", "duplicates", "reordered"])
        assert.equal(stat(last, "sink", key), 0, `the sink saw no ${key}`);
      assert.equal(await run.stop(), 0, "hmx up's own checks pass");
    } finally {
      if (run.child.exitCode === null) await run.stop();
    }
  },
);
