// SPDX-License-Identifier: Apache-2.0
// Runs every compiled test file (`*/dist/**/*.test.js`) with node's own test runner, so that a
// hang can never stall CI. Node 20's runner takes no glob patterns, so the files are listed here.
//
// Limits (issue 17: a test file once spun at exit for 12+ minutes with every test passed):
// - every test file, and every test in it, gets node's `--test-timeout`
//   (HMX_TEST_TIMEOUT_S, default 600 s): a file that overruns, also one stuck in Node's exit
//   cleanup after its last test passed, is killed by the runner and reported as failed by name;
// - the whole run has a hard limit (HMX_TEST_RUN_LIMIT_S, default 2400 s): past it, every test
//   process is killed and the files still running are named;
// - `scripts/test-watch-reporter.mjs` repeats every timed-out test or file as one line at the
//   end, so it cannot be missed in a long log.
//
// Extra arguments are passed on (e.g. `npm test -- --test-reporter=junit
// --test-reporter-destination=report.xml`); without a reporter of your own, the default one
// (spec on a terminal, TAP otherwise) writes to stdout. HMX_TEST_CONCURRENCY sets how many files
// run at once (node's default: one less than the CPUs).
import { spawn, execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

// HMX_TEST_ROOT runs another tree's tests (the runner's own test plants a hang in a scratch tree).
const root = process.env.HMX_TEST_ROOT ?? join(import.meta.dirname, "..");
const packages = [
  "proto",
  "client",
  "virtio",
  "hypervisor",
  "guest-agent",
  "cli",
  "testkit",
  "bench",
  "tests",
];

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(
      `run-tests: ${name}=${JSON.stringify(raw)} is not a positive whole number of seconds`,
    );
    process.exit(2);
  }
  return value;
}
const fileTimeoutS = seconds("HMX_TEST_TIMEOUT_S", 600);
const runLimitS = seconds("HMX_TEST_RUN_LIMIT_S", 2400);
const concurrency = process.env.HMX_TEST_CONCURRENCY;

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

const extra = process.argv.slice(2);
const reporters = extra.some((a) => a.startsWith("--test-reporter=") || a === "--test-reporter")
  ? []
  : [
      `--test-reporter=${process.stdout.isTTY ? "spec" : "tap"}`,
      "--test-reporter-destination=stdout",
    ];
const args = [
  "--test",
  `--test-timeout=${fileTimeoutS * 1000}`,
  ...(concurrency === undefined ? [] : [`--test-concurrency=${concurrency}`]),
  ...reporters,
  `--test-reporter=${join(import.meta.dirname, "test-watch-reporter.mjs")}`,
  "--test-reporter-destination=stderr",
  ...extra,
  ...files.map((f) => relative(root, f)),
];
console.log(
  `running ${files.length} test files (limit ${fileTimeoutS} s per file and per test, ${runLimitS} s in all)`,
);

// Its own process group, so that the run limit can kill every test process at once.
const runner = spawn(process.execPath, args, { cwd: root, stdio: "inherit", detached: true });
const forwardSignal = (signal) => () => runner.kill(signal);
process.on("SIGINT", forwardSignal("SIGINT")).on("SIGTERM", forwardSignal("SIGTERM"));

const watchdog = setTimeout(() => {
  console.error(
    `\nrun-tests: the run exceeded ${runLimitS} s; killing it. Test files still running:`,
  );
  for (const file of runningTestFiles(runner.pid)) console.error(`  ${file}`);
  process.kill(-runner.pid, "SIGKILL");
}, runLimitS * 1000);

runner.on("exit", (code, signal) => {
  clearTimeout(watchdog);
  process.exit(code ?? (signal === null ? 1 : 128 + 9));
});

/** The test files whose processes are in the runner's process group, the runner itself aside. */
function runningTestFiles(pgid) {
  try {
    const out = execFileSync("ps", ["-o", "pid=,args=", "-g", String(pgid)], { encoding: "utf8" });
    const children = out.split("\n").filter((line) => Number.parseInt(line, 10) !== pgid);
    return [...new Set(children.flatMap((line) => line.match(/\S+\.test\.js/g) ?? []))];
  } catch {
    return ["(could not list them: ps failed)"];
  }
}
