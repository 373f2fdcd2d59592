// SPDX-License-Identifier: Apache-2.0
/**
 * Fallback for `hmx hypervisor`: the same service started the same way (flags and environment
 * through `parseHypervisorConfig`, `startHypervisor`, the JSON "hypervisor ready" line), used by
 * the benchmark only when `node cli/bin/hmx.js hypervisor` cannot start — e.g. while the CLI
 * does not build because another package is mid-change. The run's JSON records which one ran.
 */
import { createLogger, parseHypervisorConfig, startHypervisor } from "@hmx/hypervisor";

const config = parseHypervisorConfig({ argv: process.argv.slice(2), env: process.env });
if (config === "help") process.exit(2);
const log = createLogger(config.logLevel);
const running = await startHypervisor(config, log);
log.info(
  { listen: running.listen, controlListen: running.controlListen, launcher: "bench" },
  "hypervisor ready",
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void running.stop().then(() => process.exit(0));
  });
}
