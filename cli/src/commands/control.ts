// SPDX-License-Identifier: Apache-2.0
/**
 * What the administrative commands (`hmx policy`, `hmx viptables`) share: reaching the
 * toolstack with `--control HOST:PORT` (env HMX_CONTROL) and the admin token
 * (`--admin-token-file FILE` or env HMX_ADMIN_TOKEN), usage errors that name the bad value
 * (exit 2), and readable gRPC failures (exit 1). With neither given, they reach the `hmx up`
 * running from this checkout (its toolstack and admin-token file, through `.hmx/up.json`).
 */
import { ToolstackClient, parseHostPort } from "@hmx/client";
import { readFileSync } from "node:fs";
import { ExitCode } from "../exit-codes.js";
import { usageError } from "../parse-command.js";
import { readUpPointer, type UpPointer } from "../up/run-dir.js";

/** Bad command-line usage: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Where the command prints; tests pass their own. */
export interface CommandIo {
  log(line: string): void;
  error(line: string): void;
}

export const CONSOLE_IO: CommandIo = {
  log: (line) => {
    console.log(line);
  },
  error: (line) => {
    console.error(line);
  },
};

export const CONTROL_OPTIONS_USAGE = `  --control HOST:PORT        the hypervisor's toolstack address (env HMX_CONTROL; default: the
                             'hmx up' running from this checkout, else 127.0.0.1:7071)
  --admin-token-file FILE    file holding the admin token (or env HMX_ADMIN_TOKEN; default: that
                             of the 'hmx up' running from this checkout)`;

/** The connection options, as parsed from flags and the environment. */
/** The flags every toolstack command takes, as `parseArgs` options (spread into each command's). */
export const CONTROL_FLAGS = {
  control: { type: "string" },
  "admin-token-file": { type: "string" },
} as const;

export interface ControlOptions {
  readonly control: string;
  readonly adminToken: string;
}

/** Reads `--control` and the admin token; throws UsageError naming the bad value. */
export function resolveControl(
  flags: { control?: string | undefined; adminTokenFile?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
  runningUp: () => UpPointer | undefined = readUpPointer,
): ControlOptions {
  const up = runningUp();
  const control =
    flags.control ??
    (env["HMX_CONTROL"] === "" ? undefined : env["HMX_CONTROL"]) ??
    up?.control ??
    "127.0.0.1:7071";
  if (parseHostPort(control) === undefined)
    throw new UsageError(`--control ${JSON.stringify(control)}: expected HOST:PORT`);
  // The running `hmx up`'s token goes only to its own toolstack.
  const adminToken = adminTokenFor(
    control,
    control === up?.control ? up : undefined,
    flags,
    env,
    readFile,
  );
  return { control, adminToken };
}

/**
 * The admin token for `target`: `--admin-token-file`, else env HMX_ADMIN_TOKEN, else the file of
 * the running `hmx up` when `target` is one of its listeners (`up` given); UsageError otherwise.
 */
export function adminTokenFor(
  target: string,
  up: UpPointer | undefined,
  flags: { adminTokenFile?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): string {
  let adminToken: string;
  const envToken = (env["HMX_ADMIN_TOKEN"] ?? "").trim();
  const tokenFile = flags.adminTokenFile ?? (envToken === "" ? up?.adminTokenFile : undefined);
  if (tokenFile !== undefined) {
    try {
      adminToken = readFile(tokenFile).trim();
    } catch (err) {
      throw new UsageError(
        `--admin-token-file ${JSON.stringify(tokenFile)}: ${(err as Error).message}`,
      );
    }
    if (adminToken === "")
      throw new UsageError(`--admin-token-file ${JSON.stringify(tokenFile)}: the file is empty`);
  } else {
    adminToken = envToken;
    if (adminToken === "")
      throw new UsageError(
        `no admin token for ${target}: pass --admin-token-file FILE or set HMX_ADMIN_TOKEN (a container fleet's is in .env: export $(grep HMX_ADMIN_TOKEN .env))`,
      );
  }
  return adminToken;
}

/** Runs `body` with a connected client and closes it afterwards. */
export async function withToolstack<T>(
  options: ControlOptions,
  body: (client: ToolstackClient) => Promise<T>,
): Promise<T> {
  const client = new ToolstackClient(options.control, options.adminToken);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

/** A one-line description of a failed toolstack call. */
export function describeError(err: unknown): string {
  const e = err as { code?: unknown; details?: unknown };
  if (typeof e.code === "number" && typeof e.details === "string") {
    const names: Record<number, string> = {
      3: "invalid argument",
      5: "not found",
      8: "resource exhausted",
      9: "failed precondition",
      11: "out of range",
      14: "the toolstack is unreachable",
      16: "unauthenticated (wrong admin token?)",
    };
    return `${names[e.code] ?? `gRPC status ${e.code}`}: ${e.details}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A non-negative integer flag value, or UsageError naming the flag and value. */
export function parseUint(flag: string, value: string | undefined, max = 0xffffffff): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) > max) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value ?? "")}: expected an integer in 0..${max}`,
    );
  }
  return Number(value);
}

/**
 * Runs an administrative command's body in the one error style: bad usage (UsageError, a
 * parseArgs error) prints `hmx COMMAND: PROBLEM` plus the --help pointer (exit 2); any other
 * failure one line with describeError (exit 1).
 */
export async function runAdminCommand(
  command: string,
  io: CommandIo,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (
      err instanceof UsageError ||
      (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))
    )
      return usageError(command.split(" ")[0] ?? command, (err as Error).message, (line) => {
        io.error(line);
      });
    io.error(`hmx ${command}: ${describeError(err)}`);
    return ExitCode.FAILURE;
  }
}
