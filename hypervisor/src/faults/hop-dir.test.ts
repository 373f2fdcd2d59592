// SPDX-License-Identifier: Apache-2.0
/** The link relay's hop directory: named after its pid, and swept once its owner is dead. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";
import { makeHopDir } from "./hop-dir.js";

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

test("a hop directory is private and named after this process's pid", () => {
  const parent = mkdtempSync(join(tmpdir(), "hop-dir-test-"));
  try {
    const dir = makeHopDir(parent);
    assert.match(basename(dir), new RegExp(`^hmx-link-${process.pid}-`));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test("making one removes the hop directories of dead hypervisors and keeps live ones'", () => {
  const parent = mkdtempSync(join(tmpdir(), "hop-dir-test-"));
  try {
    const stale = join(parent, `hmx-link-${deadPid()}-abc123`);
    mkdirSync(join(stale, "inner"), { recursive: true });
    const live = join(parent, `hmx-link-${process.ppid}-def456`);
    mkdirSync(live);
    const unrelated = join(parent, "hmx-link-notapid");
    mkdirSync(unrelated);
    makeHopDir(parent);
    assert.equal(existsSync(stale), false, "the dead owner's directory is gone");
    assert.equal(existsSync(live), true, "a live process's directory stays");
    assert.equal(existsSync(unrelated), true, "a name without a pid is not ours to judge");
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
