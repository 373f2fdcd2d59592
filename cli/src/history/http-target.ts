// SPDX-License-Identifier: Apache-2.0
/**
 * Which harness HTTP listener (`--http-listen`, docs/harness.md) `hmx history` and `hmx status`
 * talk to: `--http HOST:PORT`, else env HMX_HTTP, else that of the `hmx up` running from this
 * checkout (its pointer file), with the admin token resolved the way every admin command does.
 */
import { parseHostPort } from "@hmx/client";
import { readFileSync } from "node:fs";
import { adminTokenFor, UsageError } from "../commands/control.js";
import { readUpPointer, type UpPointer } from "../up/run-dir.js";

export const HTTP_OPTIONS_USAGE = `  --http HOST:PORT           the hypervisor's HTTP listener (its --http-listen; env HMX_HTTP;
                             default: that of the 'hmx up' running from this checkout)
  --admin-token-file FILE    file holding the admin token (or env HMX_ADMIN_TOKEN; default: that
                             of the 'hmx up' running from this checkout)`;

export interface HttpTarget {
  readonly http: string;
  readonly adminToken: string;
}

/** The HTTP listener named by flags, env or the running `hmx up`, or undefined if none is. */
export function findHttpTarget(
  flags: { http?: string | undefined; adminTokenFile?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
  runningUp: () => UpPointer | undefined = readUpPointer,
): HttpTarget | undefined {
  const up = runningUp();
  const http =
    flags.http ?? (env["HMX_HTTP"] === "" ? undefined : env["HMX_HTTP"]) ?? up?.httpListen;
  if (http === undefined) return undefined;
  if (parseHostPort(http) === undefined)
    throw new UsageError(`--http ${JSON.stringify(http)}: expected HOST:PORT`);
  // The running `hmx up`'s token goes only to its own listener.
  const adminToken = adminTokenFor(
    http,
    http === up?.httpListen ? up : undefined,
    flags,
    env,
    readFile,
  );
  return { http, adminToken };
}

/** As findHttpTarget, but a missing listener is a usage error saying how to name one. */
export function resolveHttpTarget(
  flags: { http?: string | undefined; adminTokenFile?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  readFile?: (path: string) => string,
  runningUp?: () => UpPointer | undefined,
): HttpTarget {
  const target = findHttpTarget(flags, env, readFile, runningUp);
  if (target === undefined)
    throw new UsageError(
      "no HTTP listener to read: pass --http HOST:PORT (the hypervisor's --http-listen) or set HMX_HTTP, or start 'hmx up' in this checkout",
    );
  return target;
}
