// SPDX-License-Identifier: Apache-2.0
/**
 * The flag handling every `hmx` command shares: node's strict `parseArgs` plus `-h/--help`; a
 * bad flag prints the error and the usage (exit 2), `--help` prints the usage (exit 0).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;
import { ExitCode } from "./exit-codes.js";

const HELP = { help: { type: "boolean", short: "h" } } as const;

/** What `parseArgs` returns for these options (with positionals allowed). */
export type ParsedCommand<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{
    args: string[];
    options: O & typeof HELP;
    strict: true;
    allowPositionals: true;
  }>
>;

/**
 * Parses `argv` for `hmx <command>`: the parsed flags, or the exit code to return at once
 * (usage error or help shown). Commands that take no positionals check `positionals` is empty.
 */
export function parseCommand<O extends ParseArgsOptionsConfig>(
  command: string,
  usage: string,
  argv: string[],
  options: O,
): ParsedCommand<O> | { readonly exit: number } {
  let parsed: ParsedCommand<O>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, ...HELP },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    console.error(`hmx ${command}: ${(err as Error).message}\n\n${usage}`);
    return { exit: ExitCode.USAGE };
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    console.log(usage);
    return { exit: ExitCode.OK };
  }
  return parsed;
}
