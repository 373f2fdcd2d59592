// SPDX-License-Identifier: Apache-2.0
// Runs every compiled test file (`*/dist/**/*.test.js`) with node's own test runner. Node 20's
// runner takes no glob patterns, so the files are listed here. Extra arguments are passed on
// (e.g. `npm test -- --test-reporter=junit --test-reporter-destination=report.xml`).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const packages = ["proto", "hypervisor", "guest-agent", "cli", "testkit", "bench", "tests"];

function* testFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* testFiles(path);
    else if (entry.name.endsWith(".test.js")) yield path;
  }
}

const files = packages.flatMap((p) => [...testFiles(join(root, p, "dist"))]).sort();
if (files.length === 0) {
  console.error("no test files found under */dist: did the build run?");
  process.exit(1);
}
console.log(`running ${files.length} test files`);
const result = spawnSync(
  process.execPath,
  ["--test", ...process.argv.slice(2), ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
