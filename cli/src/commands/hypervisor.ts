// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx hypervisor`: the service alone. Prints the JSON "hypervisor ready" line with the bound
 * addresses once both listeners are up; SIGTERM/SIGINT stop it gracefully.
 */
import {
  ConfigError,
  HYPERVISOR_USAGE,
  createLogger,
  parseHypervisorConfig,
  startHypervisor,
} from "@hmx/hypervisor";
import { tuneHeapForDataPath } from "@hmx/client";
import { ExitCode } from "../exit-codes.js";
import { configProblems } from "../parse-command.js";
import { isVerbose } from "../verbose.js";
import { onShutdownSignal } from "../shutdown.js";

export async function runHypervisorCommand(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseHypervisorConfig({ argv, env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return configProblems("hypervisor", err.problems);
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
    // One line a person can act on; the stack only when asked for (--verbose).
    console.error(`hmx hypervisor: ${describeStartFailure(err)}`);
    if (isVerbose()) log.fatal({ err }, "hypervisor failed to start");
    return ExitCode.FAILURE;
  }
  log.info(
    {
      listen: running.listen,
      controlListen: running.controlListen,
      ...(running.httpListen === undefined ? {} : { httpListen: running.httpListen }),
      argo: config.argoEnabled
        ? config.argoMacPermissive
          ? "mac-permissive"
          : "strict"
        : "disabled",
      heapGrowingPercent,
      ...(running.toxiproxyListen === undefined
        ? {}
        : { toxiproxyListen: running.toxiproxyListen }),
      faultSeed: running.argoFaults.seed,
      xsm: running.mac.moduleName,
      ...(running.mac.moduleName === "flask"
        ? { flaskMode: running.mac.flaskMode, policy: running.mac.loaded?.policy.fileName ?? null }
        : {}),
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

/**
 * Why the service did not start, in one line: a listen failure names the address and what to do
 * (grpc-js nests node's EADDRINUSE twice inside its own message).
 */
export function describeStartFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const listen = /^cannot listen on (\S+?):? /.exec(message);
  const address = listen?.[1] ?? "its address";
  if (message.includes("EADDRINUSE"))
    return `cannot listen on ${address}: the address is already in use (another hmx hypervisor or hmx up?); choose a free port with --listen / --control-listen, or port 0 for any`;
  if (message.includes("EACCES"))
    return `cannot listen on ${address}: permission denied (ports below 1024 need privileges); choose another port`;
  return message.split("\n")[0] ?? message;
}
