// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx up`'s live screen in a real 80×24 pseudo-terminal (util-linux `script`, `stty` setting
 * the size): every frame it draws has no line over 80 columns and at most 23 lines, so nothing
 * wraps and nothing scrolls, with the whole default fleet (eight domains) on screen.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HMX_BIN } from "@hmx/cli/supervisor";

const CLEAR = "\x1b[H\x1b[2J";

test("hmx up at 80x24 draws frames that neither wrap nor scroll, with all eight domains", (t) => {
  if (spawnSync("script", ["--version"]).status !== 0) {
    t.skip("util-linux script is missing (apt-get install bsdutils)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "hmx-up-tty-"));
  try {
    const log = join(dir, "typescript");
    const command = `stty cols 80 rows 24; exec '${process.execPath}' '${HMX_BIN}' up --duration 12`;
    const r = spawnSync("script", ["-qfec", command, log], {
      env: { ...process.env, HMX_UP_POINTER: join(dir, "up.json") },
      encoding: "utf8",
      timeout: 120_000,
    });
    const output = readFileSync(log, "utf8");
    assert.equal(r.status, 0, output.slice(-3000));
    // Each frame runs from one clear to the next; the last ends where hmx up's own lines begin.
    const frames = output
      .split(CLEAR)
      .slice(1)
      .map((f) => f.replace(/\r/g, "").split("\nhmx up: ")[0] ?? "");
    assert.ok(frames.length >= 2, `frames drawn: ${frames.length}`);
    for (const frame of frames) {
      const lines = frame.replace(/\n$/, "").split("\n");
      assert.ok(lines.length <= 23, `${lines.length} lines:\n${frame}`);
      for (const line of lines) assert.ok(line.length <= 80, `over 80 columns: ${line}`);
    }
    const last = frames.at(-1) ?? "";
    for (const name of ["echo", "sink", "pinger", "streamer", "vbackend", "vdemo1", "vdemo2"])
      assert.match(last, new RegExp(`^\\d+\\s+${name}\\s`, "m"), `${name} on screen:\n${last}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
