// SPDX-License-Identifier: Apache-2.0
/**
 * The flag handling every `hmx` command shares: node's strict `parseArgs` plus `-h/--help`, and
 * one error style: a bad flag prints one line naming the bad value and the fix, then a pointer to
 * `--help` (exit 2) — never node's raw parser message nor the whole usage; `--help` prints the
 * usage (exit 0).
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
 * Node's `parseArgs` messages (multi-line, with an unclosed quote) as one line naming the bad
 * flag and what to do; any other message is returned unchanged. Also used on the messages
 * `hmx hypervisor` and `hmx guest` get from their own config parsers.
 */
export function describeArgsError(message: string): string {
  const flag = (spec: string) => spec.replace(/^-\w, /, "").replace(/ <value>$/, "");
  let m = /^Unknown option '([^']*)'/.exec(message);
  if (m !== null) return `unknown option ${m[1]}`;
  m = /^Option '([^']*)' argument missing/.exec(message);
  if (m?.[1] !== undefined) return `${flag(m[1])} needs a value`;
  m = /^Option '([^']*)' argument is ambiguous/.exec(message);
  if (m?.[1] !== undefined)
    return `${flag(m[1])} needs a value (for a value starting with '-', write ${flag(m[1])}=VALUE)`;
  m = /^Option '([^']*)' does not take an argument/.exec(message);
  if (m?.[1] !== undefined) return `${flag(m[1])} takes no value`;
  m = /^Unexpected argument '([^']*)'/.exec(message);
  if (m !== null) return `unexpected argument ${JSON.stringify(m[1])}`;
  return message;
}

/** The line that follows every usage error: where the full usage is. */
export function helpPointer(command: string): string {
  return `Run 'hmx ${command === "" ? "" : `${command} `}--help' for usage.`;
}

/**
 * Prints a usage error the one way every command does: `hmx COMMAND: PROBLEM` (one line; node
 * parser messages rewritten) and the `--help` pointer. Returns the usage exit code.
 */
export function usageError(
  command: string,
  problem: string,
  print: (line: string) => void = (line) => {
    console.error(line);
  },
): number {
  print(`hmx${command === "" ? "" : ` ${command}`}: ${describeArgsError(problem)}`);
  print(helpPointer(command));
  return ExitCode.USAGE;
}

/** Every problem a config parser found, one line each in the usage-error style. */
export function configProblems(command: string, problems: readonly string[]): number {
  for (const problem of problems.slice(0, -1))
    console.error(`hmx ${command}: ${describeArgsError(problem)}`);
  return usageError(command, problems.at(-1) ?? "bad usage");
}

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
    return { exit: usageError(command, (err as Error).message) };
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    console.log(usage);
    return { exit: ExitCode.OK };
  }
  return parsed;
}
