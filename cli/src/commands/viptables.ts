// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx viptables`: OpenXT's viptables tool (libargo/app/viptables.c) for hmx's Argo firewall,
 * with its flags: `-A` append, `-I n` insert, `-D[n]` delete, `-L` list, `-F` flush, and rule
 * options `-d`/`-p` client (sender) domain and port, `-e`/`-q` server (ring owner) domain and
 * port, `-j ACCEPT|REJECT`. hmx additions: a domain may be a label instead of a domid, and
 * `-P ACCEPT|REJECT` sets the default verdict. Talks to the toolstack.
 */
import type { FirewallEndpoint, FirewallRuleView, ToolstackClient, Verdict } from "@hmx/client";
import { ExitCode } from "../exit-codes.js";
import { usageError } from "../parse-command.js";
import {
  CONSOLE_IO,
  CONTROL_OPTIONS_USAGE,
  UsageError,
  describeError,
  parseUint,
  resolveControl,
  withToolstack,
  type CommandIo,
} from "./control.js";

export const VIPTABLES_USAGE = `usage: hmx viptables COMMAND [rule options] [--control HOST:PORT] [--admin-token-file FILE]

The Argo firewall (OpenXT viptables): checked on every sendv after XSM; the first matching rule
decides; REJECT fails the sendv with -EPERM; no match takes the default verdict.

commands (exactly one):
  -A                 append a rule
  -I N               insert a rule so that it becomes rule N (1-based)
  -D[N]              delete rule N; without N, the first rule with the same -d -p -e -q
  -L                 list the rules with their positions and hit counts
  -F                 flush (delete every rule; the default verdict stays)
  -P ACCEPT|REJECT   set the default verdict (hmx addition)

rule options (absent means any):
  -d DOMAIN          client (sender) domain: a domid, or a label / Flask type
  -p PORT            client port; NOT authenticated by Argo (the sender picks it), so
                     prefer rules on -d and -q
  -e DOMAIN          server (ring owner) domain: a domid, or a label / Flask type
  -q PORT            server (ring) port
  -j ACCEPT|REJECT   verdict (required with -A and -I)

other:
  --json             -L prints JSON
${CONTROL_OPTIONS_USAGE}
  -h, --help         show this help

examples:
  hmx viptables -A -d client_t -e sink_t -q 9 -j ACCEPT
  hmx viptables -I 1 -d 7 -j REJECT
  hmx viptables -D2
  hmx viptables -P REJECT`;

/** The parsed command line. */
export type ViptablesCommand =
  | { readonly op: "append"; readonly rule: RuleArgs }
  | { readonly op: "insert"; readonly position: number; readonly rule: RuleArgs }
  | { readonly op: "delete-at"; readonly position: number }
  | { readonly op: "delete-rule"; readonly rule: RuleArgs }
  | { readonly op: "list" }
  | { readonly op: "flush" }
  | { readonly op: "policy"; readonly verdict: Verdict };

export interface RuleArgs {
  readonly src: FirewallEndpoint;
  readonly dst: FirewallEndpoint;
  readonly verdict: Verdict | undefined;
}

export interface ParsedViptables {
  readonly command: ViptablesCommand | "help";
  readonly json: boolean;
  readonly control: string | undefined;
  readonly adminTokenFile: string | undefined;
}

const LABEL = /^[A-Za-z0-9_.:-]{1,64}$/;

function parseDomain(
  flag: string,
  value: string | undefined,
): { domid: number } | { label: string } {
  if (value === undefined || value === "") throw new UsageError(`${flag} needs a domid or a label`);
  if (/^\d+$/.test(value)) {
    const domid = Number(value);
    if (domid < 1 || domid > 0x7fef)
      throw new UsageError(`${flag} ${JSON.stringify(value)}: a domid is in 1..32751`);
    return { domid };
  }
  if (!LABEL.test(value))
    throw new UsageError(
      `${flag} ${JSON.stringify(value)}: expected a domid or a label of [A-Za-z0-9_.:-]`,
    );
  return { label: value };
}

function parseVerdict(flag: string, value: string | undefined): Verdict {
  const v = value?.toUpperCase();
  if (v === "ACCEPT") return "accept";
  if (v === "REJECT") return "reject";
  throw new UsageError(`${flag} ${JSON.stringify(value ?? "")}: expected ACCEPT or REJECT`);
}

/** Parses viptables' flags; throws UsageError naming the bad flag or value. Pure. */
export function parseViptablesArgs(argv: readonly string[]): ParsedViptables {
  let op: "append" | "insert" | "delete" | "list" | "flush" | "policy" | undefined;
  let position: number | undefined;
  let policyVerdict: Verdict | undefined;
  let src: { domid?: number; label?: string; port?: number } = {};
  let dst: { domid?: number; label?: string; port?: number } = {};
  let verdict: Verdict | undefined;
  let json = false;
  let control: string | undefined;
  let adminTokenFile: string | undefined;
  let help = false;
  const setOp = (flag: string, next: typeof op): void => {
    if (op !== undefined)
      throw new UsageError(`${flag}: only one of -A, -I, -D, -L, -F, -P may be given`);
    op = next;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "-A") setOp(arg, "append");
    else if (arg === "-L") setOp(arg, "list");
    else if (arg === "-F") setOp(arg, "flush");
    else if (arg === "-P") {
      setOp(arg, "policy");
      policyVerdict = parseVerdict("-P", value());
    } else if (arg.startsWith("-I")) {
      setOp("-I", "insert");
      position = parseUint("-I", arg.length > 2 ? arg.slice(2) : value(), 65536);
      if (position < 1) throw new UsageError(`-I ${position}: positions start at 1`);
    } else if (arg.startsWith("-D")) {
      setOp("-D", "delete");
      if (arg.length > 2) {
        position = parseUint("-D", arg.slice(2), 65536);
        if (position < 1) throw new UsageError(`-D${position}: positions start at 1`);
      }
    } else if (arg === "-d")
      src = {
        ...parseDomain("-d", value()),
        ...(src.port === undefined ? {} : { port: src.port }),
      };
    else if (arg === "-e")
      dst = {
        ...parseDomain("-e", value()),
        ...(dst.port === undefined ? {} : { port: dst.port }),
      };
    else if (arg === "-p") src = { ...src, port: parseUint("-p", value(), 0xfffffffe) };
    else if (arg === "-q") dst = { ...dst, port: parseUint("-q", value(), 0xfffffffe) };
    else if (arg === "-j") verdict = parseVerdict("-j", value());
    else if (arg === "--json") json = true;
    else if (arg === "--control") control = value();
    else if (arg === "--admin-token-file") adminTokenFile = value();
    else throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
  }
  const base = { json, control, adminTokenFile };
  if (help) return { command: "help", ...base };
  const rule: RuleArgs = { src, dst, verdict };
  const hasRuleOptions =
    Object.keys(src).length > 0 || Object.keys(dst).length > 0 || verdict !== undefined;
  let command: ViptablesCommand;
  switch (op) {
    case undefined:
      throw new UsageError("give a command: -A, -I N, -D[N], -L, -F or -P");
    case "append":
    case "insert":
      if (verdict === undefined)
        throw new UsageError(`-${op === "append" ? "A" : "I"} needs -j ACCEPT or -j REJECT`);
      command = op === "append" ? { op, rule } : { op, position: position ?? 1, rule };
      break;
    case "delete":
      if (position !== undefined) {
        if (hasRuleOptions)
          throw new UsageError(
            "-D N takes no rule options (use -D alone with -d -p -e -q to delete by rule)",
          );
        command = { op: "delete-at", position };
      } else {
        if (!hasRuleOptions)
          throw new UsageError(
            "-D needs a position (-D3) or rule options (-d -p -e -q); -F flushes",
          );
        command = { op: "delete-rule", rule };
      }
      break;
    case "list":
    case "flush":
      if (hasRuleOptions)
        throw new UsageError(`-${op === "list" ? "L" : "F"} takes no rule options`);
      command = { op };
      break;
    case "policy":
      command = { op, verdict: policyVerdict ?? "accept" };
      break;
  }
  return { command, ...base };
}

function endpointText(e: FirewallEndpoint): string {
  const domain = e.domid !== undefined ? `dom${e.domid}` : (e.label ?? "*");
  return `${domain}:${e.port ?? "*"}`;
}

/** The -L table. */
export function formatRules(
  rules: readonly FirewallRuleView[],
  total: number,
  defaultVerdict: Verdict,
  defaultHits: number,
): string[] {
  const lines = [
    `Argo firewall: ${total} rule(s), default ${defaultVerdict.toUpperCase()} (${defaultHits} hits)`,
  ];
  if (rules.length === 0) return lines;
  const rows = [
    ["num", "target", "client", "server", "hits", "rule"],
    ...rules.map((r) => [
      String(r.position),
      r.verdict.toUpperCase(),
      endpointText(r.src),
      endpointText(r.dst),
      String(r.hits),
      r.text,
    ]),
  ];
  const widths =
    rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length))) ?? [];
  for (const row of rows)
    lines.push(
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd(),
    );
  return lines;
}

async function execute(
  client: ToolstackClient,
  command: ViptablesCommand,
  json: boolean,
  io: CommandIo,
): Promise<void> {
  switch (command.op) {
    case "append":
    case "insert": {
      const { position, id } = await client.addFirewallRule(
        { src: command.rule.src, dst: command.rule.dst, verdict: command.rule.verdict ?? "reject" },
        command.op === "insert" ? command.position : 0,
      );
      io.log(`rule ${position} added (id ${id})`);
      return;
    }
    case "delete-at": {
      const removed = await client.deleteFirewallRule(command.position);
      io.log(`rule ${command.position} deleted: ${removed?.text ?? ""}`);
      return;
    }
    case "delete-rule": {
      const removed = await client.deleteFirewallRule({
        src: command.rule.src,
        dst: command.rule.dst,
      });
      io.log(`rule deleted: ${removed?.text ?? ""}`);
      return;
    }
    case "list": {
      // Page through like viptables does: until a page comes back short.
      const page = await client.listAllFirewallRules(8);
      if (json) io.log(JSON.stringify(page, null, 2));
      else
        for (const line of formatRules(
          page.rules,
          page.total,
          page.defaultVerdict,
          page.defaultHits,
        ))
          io.log(line);
      return;
    }
    case "flush":
      io.log(`${await client.flushFirewall()} rule(s) flushed`);
      return;
    case "policy":
      await client.setFirewallDefault(command.verdict);
      io.log(`default verdict ${command.verdict.toUpperCase()}`);
      return;
  }
}

export async function runViptablesCommand(
  argv: string[],
  io: CommandIo = CONSOLE_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let parsed: ParsedViptables;
  let control;
  try {
    parsed = parseViptablesArgs(argv);
    if (parsed.command === "help") {
      io.log(VIPTABLES_USAGE);
      return ExitCode.OK;
    }
    control = resolveControl(parsed, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageError("viptables", err.message, (line) => {
      io.error(line);
    });
  }
  const command = parsed.command;
  try {
    await withToolstack(control, (client) => execute(client, command, parsed.json, io));
    return ExitCode.OK;
  } catch (err) {
    io.error(`hmx viptables: ${describeError(err)}`);
    return ExitCode.FAILURE;
  }
}
