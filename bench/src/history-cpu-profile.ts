// SPDX-License-Identifier: Apache-2.0
/**
 * Preloaded into the history bench's hypervisors (`NODE_OPTIONS=--import …`) when it runs with
 * `--cpu-prof DIR`: node refuses `--cpu-prof` in NODE_OPTIONS, and the testkit starts the
 * hypervisor itself, so the profile is taken through the inspector instead and written, as
 * `--cpu-prof` would, when the process exits (the main thread's inspector session answers
 * synchronously, so an `exit` handler can still stop it).
 */
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env["HMX_BENCH_CPU_PROF_DIR"];
if (dir !== undefined) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (err !== null) return;
      writeFileSync(
        join(dir, `hypervisor-${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      );
    });
  });
}
