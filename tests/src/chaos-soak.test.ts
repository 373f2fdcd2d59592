// SPDX-License-Identifier: Apache-2.0
/**
 * The soak's short form in CI: deploy/chaos/soak.yaml, every generator, cut to 45 s, against
 * `hmx up` (chaos-soak.ts); the same checks as `npm run soak`'s ten minutes: every fault applied
 * and healed, liveness after every heal, 0 lost, 0 duplicated, 0 reordered, MAC respected, and
 * hmx up's own checks at the end.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SOAK_SCHEDULE, runSoak, soakFigure } from "./chaos-soak.js";

test(
  "the soak schedule cut to 45 s against hmx up: every check passes with 0 lost, duplicated or reordered",
  { timeout: 400_000 },
  async () => {
    const out = mkdtempSync(join(tmpdir(), "hmx-soak-test-"));
    try {
      const result = await runSoak({
        schedule: SOAK_SCHEDULE,
        duration: "45s",
        seed: 2026,
        outDir: out,
        log: (line) => {
          console.log(`# ${line}`);
        },
      });
      console.log(`# ${soakFigure(result)}`);
      for (const check of result.checks) assert.ok(check.passed, `${check.name}: ${check.message}`);
      assert.deepEqual(
        result.checks.map((c) => c.name),
        [
          "faults applied",
          "every fault healed",
          "liveness after every heal",
          "no loss",
          "no duplication",
          "per-pair FIFO",
          "MAC respected throughout",
        ],
        "every check ran",
      );
      assert.ok(result.faults >= 60, `${result.faults} faults in 45 s`);
      assert.equal(result.chaosExit, 0);
      assert.equal(result.upExit, 0, "hmx up's own checks pass");
      assert.ok(result.sink.received > 0);
      assert.ok(existsSync(join(out, "timeline.svg")));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
