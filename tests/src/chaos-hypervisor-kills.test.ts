// SPDX-License-Identifier: Apache-2.0
/**
 * Hypervisor faults from a schedule (docs/chaos.md "Hypervisor faults"): `hmx chaos run
 * deploy/chaos/hypervisor-kills.json` against `hmx up --no-virtio --restart-guests` kills the
 * hypervisor twice and restarts it once under traffic, with one-way cuts around them. Every check
 * passes across the outages: each fault applied and healed (cuts in force at a kill end with
 * it), liveness after every heal, the sink's 0 lost / duplicated / reordered, and MAC from the
 * history — passed on what the history shows, unproven only for the seqs the restarts lost.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { HMX_BIN } from "@hmx/cli/supervisor";
import { HmxUpRun, stat } from "./hmx-up-run.js";

const SCHEDULE = fileURLToPath(
  new URL("../../deploy/chaos/hypervisor-kills.json", import.meta.url),
);

interface Check {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
  readonly figures: Record<string, number>;
}

test(
  "a schedule that kills and restarts the hypervisor under traffic passes every check with 0 lost, duplicated or reordered",
  { timeout: 400_000 },
  async () => {
    const run = new HmxUpRun(["--no-virtio", "--restart-guests", "--refresh-ms", "500"]);
    const out = mkdtempSync(join(tmpdir(), "hmx-chaos-hv-"));
    let exitCode: number | null = null;
    try {
      await run.waitFor((s) => stat(s, "sink", "received") > 500, 120_000, "sink traffic");
      const chaos = spawn(
        process.execPath,
        [HMX_BIN, "chaos", "run", SCHEDULE, "--out", out, "--liveness", "10s"],
        { env: run.env, stdio: ["ignore", "pipe", "pipe"] },
      );
      let output = "";
      chaos.stdout.on("data", (d: Buffer) => (output += d.toString()));
      chaos.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => chaos.on("exit", resolve));
      const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as {
        checks: Check[];
      };
      // The run's summary in the test's output: the figures of each check.
      process.stdout.write(readFileSync(join(out, "summary.txt"), "utf8"));
      const failed = results.checks.filter((c) => !c.passed);
      assert.deepEqual(failed, [], output);
      assert.equal(code, 0, output);
      const check = (name: string): Check => {
        const c = results.checks.find((x) => x.name === name);
        assert.ok(c !== undefined, `a "${name}" check ran`);
        return c;
      };
      for (const name of ["no loss", "no duplication", "per-pair FIFO"])
        assert.ok((check(name).figures["received"] ?? 0) > 0, `${name}: messages were seen`);
      const mac = check("MAC respected throughout");
      assert.ok((mac.figures["restartGaps"] ?? 0) >= 1, mac.message);
      assert.match(mac.message, /unproven for seq \d+\.\.\d+/);
      const lines = readFileSync(join(out, "history.jsonl"), "utf8").trim().split("\n");
      const hypervisorEnds = lines
        .map((l) => JSON.parse(l) as { kind: string; action: string; target: string })
        .filter((e) => e.kind === "process" && e.target === "hypervisor" && e.action === "end");
      assert.equal(hypervisorEnds.length, 3, "each outage ended: the hypervisor answered again");
      const final = run.status;
      assert.ok(final !== undefined);
      for (const key of ["lost", "duplicates", "reordered"])
        assert.equal(stat(final, "sink", key), 0, `the sink saw no ${key}`);
    } finally {
      exitCode = await run.stop();
      rmSync(out, { recursive: true, force: true });
    }
    assert.equal(exitCode, 0, `hmx up's checks pass; output:\n${run.output.slice(-3000)}`);
  },
);
