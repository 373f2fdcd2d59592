// SPDX-License-Identifier: Apache-2.0
/**
 * `--verbose`, accepted by every command: failures then show their stack trace and the gRPC
 * library's own diagnostics. Without it a failure is one line. `bin/hmx.js` reads the flag
 * before anything loads `@grpc/grpc-js` (which reads GRPC_VERBOSITY once, at load) and sets
 * HMX_VERBOSE, so the children of `hmx up` inherit the choice.
 */
export const VERBOSE_FLAG = "--verbose";

/** Whether this run asked for details (`--verbose` or HMX_VERBOSE=1). */
export function isVerbose(
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  return env["HMX_VERBOSE"] === "1";
}
