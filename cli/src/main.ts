// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx`: one command, several jobs. `up` runs the embedded default (a hypervisor plus a fleet of
 * guest processes, live); `hypervisor` and `guest` run one part alone; `policy` and
 * `viptables` administer mandatory access control through the toolstack. Exit codes
 * everywhere: 0 clean, 1 runtime failure, 2 bad usage, 3 denied (exit-codes.ts).
 */
import { EXIT_CODES_USAGE, ExitCode } from "./exit-codes.js";
import { usageError } from "./parse-command.js";
import { VERBOSE_FLAG } from "./verbose.js";
import { hmxVersion } from "./version.js";

const USAGE = `hmx — the Argo hypervisor testbed

usage: hmx <command> [options]
       hmx --version

commands:
  up           start a hypervisor and a small fleet of guests on this machine, show it live (Ctrl-C stops)
  hypervisor   run the hypervisor service alone
  guest        run one guest agent against a hypervisor
  policy       load, show, validate and query the XSM/Flask policy (what-if), audit denials
  viptables    administer the Argo firewall (OpenXT viptables flags)
  console      show a guest's virtio-console output (collected by its back end), send it input
  chaos        inject faults: partitions, -EAGAIN storms, delays, late VIRQs, pauses, link faults
  fleet        prepare the container fleet: 'hmx fleet init' writes its secrets and builds the image contents
  domain       list, create and destroy domains through the toolstack
  status       a running hypervisor at a glance: addresses, policy, domains, faults (--json)
  history      print or follow the event history (hypercalls, VIRQs, MAC, links, faults)

global options (any command):
  --verbose    show stack traces and gRPC library diagnostics on failures (env HMX_VERBOSE=1)
  -V, --version  print hmx's version

Run 'hmx <command> --help' for a command's options.

${EXIT_CODES_USAGE}`;

// Each command is loaded when it runs, so that a process loads only its own role's code:
// `hmx guest` never loads the hypervisor service (docs/architecture.md "Dependency rules").
const commands: Record<string, (argv: string[]) => Promise<number>> = {
  up: async (argv) => (await import("./commands/up.js")).runUpCommand(argv),
  hypervisor: async (argv) => (await import("./commands/hypervisor.js")).runHypervisorCommand(argv),
  guest: async (argv) => (await import("./commands/guest.js")).runGuestCommand(argv),
  policy: async (argv) => (await import("./commands/policy.js")).runPolicyCommand(argv),
  viptables: async (argv) => (await import("./commands/viptables.js")).runViptablesCommand(argv),
  fleet: async (argv) => (await import("./commands/fleet.js")).runFleetCommand(argv),
  console: async (argv) => (await import("./commands/console.js")).runConsoleCommand(argv),
  chaos: async (argv) => (await import("./chaos/chaos-command.js")).runChaosCommand(argv),
  domain: async (argv) => (await import("./domain/domain-command.js")).runDomainCommand(argv),
  status: async (argv) => (await import("./status/status-command.js")).runStatusCommand(argv),
  history: async (argv) => (await import("./history/history-command.js")).runHistoryCommand(argv),
};

async function main(argv: string[]): Promise<number> {
  // --verbose is global; bin/hmx.js already acted on it (gRPC diagnostics), HMX_VERBOSE carries it.
  const [name, ...rest] = argv.filter((arg) => arg !== VERBOSE_FLAG);
  if (name === "--version" || name === "-V") {
    console.log(`hmx ${hmxVersion()}`);
    return ExitCode.OK;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  const command = commands[name];
  if (command === undefined)
    return usageError(
      "",
      name.startsWith("-")
        ? `unknown option ${name} (options go after the command: hmx <command> ${name})`
        : `unknown command ${JSON.stringify(name)} (commands: ${Object.keys(commands).join(", ")})`,
    );
  return command(rest);
}

process.exitCode = await main(process.argv.slice(2));
