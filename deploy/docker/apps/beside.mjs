// SPDX-License-Identifier: Apache-2.0
// Runs a program beside its hmx tunnel in one container (the image has no shell to do it):
//   node /app/apps/beside.mjs PROGRAM [ARGS...] -- HMX_ARGS...
// starts PROGRAM and `hmx HMX_ARGS` (e.g. `guest --workload=tunnel --serve=6379 ...`), passes
// SIGTERM / SIGINT to both, and when either exits stops the other and exits with the first's
// status, so the container's restart policy restarts the pair together.
import { spawn } from "node:child_process";

const args = process.argv.slice(2);
const split = args.indexOf("--");
if (split < 1 || split === args.length - 1) {
  process.stderr.write("usage: beside.mjs PROGRAM [ARGS...] -- HMX_ARGS...\n");
  process.exit(2);
}
const children = [
  spawn(args[0], args.slice(1, split), { stdio: "inherit" }),
  spawn(process.execPath, ["/app/cli/bin/hmx.js", ...args.slice(split + 1)], { stdio: "inherit" }),
];
let exiting = false;
const stopAll = (signal) => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
};
for (const c of children) {
  c.on("error", (err) => {
    process.stderr.write(`beside.mjs: ${c.spawnfile}: ${err.message}\n`);
    exiting = true;
    stopAll("SIGTERM");
    process.exitCode = 127;
  });
  c.on("exit", (code, signal) => {
    if (!exiting) {
      exiting = true;
      process.stderr.write(
        `beside.mjs: ${c.spawnfile} exited (${signal ?? code}); stopping the other\n`,
      );
      process.exitCode = code ?? 1;
      stopAll("SIGTERM");
    }
  });
}
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    exiting = true;
    stopAll(signal);
  });
}
