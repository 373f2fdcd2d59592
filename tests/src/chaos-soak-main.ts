// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run soak`: the ten-minute chaos soak against `hmx up` (chaos-soak.ts), printing the figure
 * with the date and the machine's load, and exiting 0 only if every check passed.
 *
 *   npm run soak [-- --schedule FILE] [--seed N] [--out DIR] [--duration 60s]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { SOAK_SCHEDULE, runSoak, soakFigure } from "./chaos-soak.js";

const { values } = parseArgs({
  options: {
    schedule: { type: "string", default: SOAK_SCHEDULE },
    seed: { type: "string" },
    out: { type: "string", default: "soak-results" },
    duration: { type: "string" },
  },
});
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
  process.stderr.write(
    `soak: --seed ${JSON.stringify(values.seed)}: expected an integer in 0..4294967295\n`,
  );
  process.exit(2);
}
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
const loadBefore = load();
const result = await runSoak({
  schedule: values.schedule,
  outDir: values.out,
  ...(seed === undefined ? {} : { seed }),
  ...(values.duration === undefined ? {} : { duration: values.duration }),
  log: (line) => {
    process.stdout.write(`${line}\n`);
  },
});
process.stdout.write(
  `soak ${new Date().toISOString()}: ${soakFigure(result)}; load average ${loadBefore} before, ${load()} after; results in ${values.out}/ (timeline.svg)\n`,
);
process.exit(result.passed ? 0 : 1);
