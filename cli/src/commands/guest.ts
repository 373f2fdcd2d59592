// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx guest`: one guest agent (one guest VM) running a workload against a hypervisor.
 * SIGTERM/SIGINT close its sockets, unregister its rings and end its session cleanly.
 */
import {
  DomainLostError,
  GuestConfigError,
  GUEST_USAGE,
  parseGuestConfig,
  runGuest,
} from "@hmx/guest-agent";
import { tuneHeapForDataPath } from "@hmx/client";
import { ExitCode } from "../exit-codes.js";
import { configProblems } from "../parse-command.js";
import { onShutdownSignal } from "../shutdown.js";

export async function runGuestCommand(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseGuestConfig({ argv, env: process.env });
  } catch (err) {
    if (!(err instanceof GuestConfigError)) throw err;
    return configProblems("guest", err.problems);
  }
  if (config === "help") {
    console.log(GUEST_USAGE);
    return ExitCode.OK;
  }
  // The guest moves every payload through short-lived Buffers too (heap-tuning.ts).
  tuneHeapForDataPath();
  const abort = new AbortController();
  const off = onShutdownSignal(() => {
    abort.abort();
  });
  try {
    await runGuest(config, { signal: abort.signal });
    return ExitCode.OK;
  } catch (err) {
    console.error(`hmx guest: ${(err as Error).message}`);
    // Not a crash: the domain is gone, and a supervisor (restart policy) should know that.
    return err instanceof DomainLostError ? ExitCode.DOMAIN_LOST : ExitCode.FAILURE;
  } finally {
    off();
  }
}
