// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx hypervisor`: the service alone. Prints the JSON "hypervisor ready" line with the bound
 * addresses once both listeners are up; SIGTERM/SIGINT stop it gracefully.
 */
import { ConfigError, HYPERVISOR_USAGE, createLogger, parseHypervisorConfig, startHypervisor } from "@hmx/hypervisor";
import { tuneHeapForDataPath } from "@hmx/client";
import { ExitCode } from "../exit-codes.js";
import { onShutdownSignal } from "../shutdown.js";

export async function runHypervisorCommand(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseHypervisorConfig({ argv, env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`hmx hypervisor: ${err.problems.join("\n  ")}\n\n${HYPERVISOR_USAGE}`);
    return ExitCode.USAGE;
  }
  if (config === "help") {
    console.log(HYPERVISOR_USAGE);
    return ExitCode.OK;
  }
  const log = createLogger(config.logLevel);
  // A byte-moving service: see hypervisor/src/memory/heap-tuning.ts for why and what it costs.
  const heapGrowingPercent = tuneHeapForDataPath();
  let running;
  try {
    running = await startHypervisor(config, log);
  } catch (err) {
    log.fatal({ err }, "hypervisor failed to start");
    return ExitCode.FAILURE;
  }
  log.info(
    {
      listen: running.listen,
      controlListen: running.controlListen,
      ...(running.httpListen === undefined ? {} : { httpListen: running.httpListen }),
      argo: config.argoEnabled ? (config.argoMacPermissive ? "mac-permissive" : "strict") : "disabled",
      heapGrowingPercent,
      xsm: running.mac.moduleName,
      ...(running.mac.moduleName === "flask" ? { flaskMode: running.mac.flaskMode, policy: running.mac.loaded?.policy.fileName ?? null } : {}),
    },
    "hypervisor ready",
  );
  await new Promise<void>((resolve) => {
    const off = onShutdownSignal((signal) => {
      log.info({ signal }, "shutting down");
      void running.stop().then(() => {
        off();
        resolve();
      });
    });
  });
  return ExitCode.OK;
}
