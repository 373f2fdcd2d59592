// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx policy`: live administration of the hypervisor's XSM/Flask policy, the counterpart of
 * Xen's `xl loadpolicy`, `xl getenforce`/`setenforce` and an `audit2why`-style what-if:
 * load (compiled here first, then swapped in atomically by the hypervisor), show, validate
 * (offline), check (would S be allowed to send to T's port, and which rule decided), mode,
 * and audit (denial counters, or a live stream of AVC records).
 */
import { compilePolicy, formatDiagnostic } from "@hmx/hypervisor";
import {
  type AuditRecordView,
  type CheckAccessView,
  type PermissionName,
  type SubjectRef,
  type ToolstackClient,
} from "@hmx/client";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { ExitCode } from "../exit-codes.js";
import { usageError } from "../parse-command.js";
import { onShutdownSignal } from "../shutdown.js";
import {
  CONSOLE_IO,
  CONTROL_OPTIONS_USAGE,
  UsageError,
  describeError,
  parseUint,
  resolveControl,
  withToolstack,
  type CommandIo,
  CONTROL_FLAGS,
} from "./control.js";

export const POLICY_USAGE = `usage: hmx policy SUBCOMMAND [options] [--control HOST:PORT] [--admin-token-file FILE]

subcommands:
  load FILE            compile FILE (errors as file:line:col, nothing loaded), then load it; the
                       hypervisor swaps it in atomically and flushes its access vector cache
  show [--source]      the XSM module, Flask mode and policy in force (--source: its text)
  validate FILE        compile FILE and report every error; offline, no hypervisor needed
  check --from S --to T [--port N] [--src-port N] [--perm PERM] [--json]
                       what-if: would S be allowed PERM (default send) to T (for send: T's ring
                       port N), and which hook and rule decide; S and T are live domids or
                       labels (hypothetical domains); --perm enable|register_single_source|
                       register_any_source|send (enable and register_any_source take no --to)
                       exit 0 when allowed, 3 when denied (1 failure, 2 bad usage)
  mode enforcing|permissive
                       Flask's enforcing/permissive switch (permissive logs denials, allows calls)
  audit [--watch]      denial counters per permission and per rule; --watch streams AVC records
                       until Ctrl-C

${CONTROL_OPTIONS_USAGE}
  -h, --help           show this help

The policy language (Flask .te style) is documented in docs/mac.md; examples in deploy/policy/.`;

const PERMISSIONS: readonly PermissionName[] = [
  "enable",
  "register_single_source",
  "register_any_source",
  "send",
];

function subject(flag: string, value: string): SubjectRef {
  if (/^\d+$/.test(value)) return { domid: parseUint(flag, value, 0x7fef) };
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value))
    throw new UsageError(
      `${flag} ${JSON.stringify(value)}: expected a domid or a label of [A-Za-z0-9_.:-]`,
    );
  return { label: value };
}

/** A policy file that cannot be used: exit 1, one line naming the file and what to do. */
class PolicyFileError extends Error {
  override readonly name = "PolicyFileError";
}

/**
 * The policy text, or PolicyFileError: the file is missing or unreadable, or holds no statement
 * (only blanks and comments) — an empty policy would load as "deny everything", never what a
 * person meant.
 */
export function readPolicyFile(
  file: string,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): string {
  let source: string;
  try {
    source = readFile(file);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why =
      code === "ENOENT"
        ? "no such file (policies live in deploy/policy/, e.g. deploy/policy/default.te)"
        : code === "EISDIR"
          ? "is a directory, expected a .te file"
          : code === "EACCES"
            ? "permission denied"
            : (err as Error).message;
    throw new PolicyFileError(`${JSON.stringify(file)}: ${why}`);
  }
  if (source.split("\n").every((line) => /^\s*(#.*)?$/.test(line)))
    throw new PolicyFileError(
      `${JSON.stringify(file)}: the policy is empty (no type or allow statement); see docs/mac.md`,
    );
  return source;
}

/** Prints a what-if answer, one hook per line. */
export function formatCheck(r: CheckAccessView): string[] {
  const lines = [
    `${r.allowed ? "allowed" : "denied"} (ret ${r.ret})${r.decidedBy === "" ? "" : `: ${r.decidedBy}`}`,
  ];
  for (const s of r.steps) {
    const verdict =
      s.ret === 0
        ? s.permissiveOverride
          ? "allow (flask permissive; would deny)"
          : "allow"
        : `deny ${s.ret}`;
    lines.push(`  ${s.hook.padEnd(22)} ${s.module.padEnd(8)} ${verdict.padEnd(12)} ${s.rule}`);
  }
  return lines;
}

function formatAudit(r: AuditRecordView): string {
  return `${r.time} #${r.seq} ${r.text}${r.droppedBefore > 0 ? ` (${r.droppedBefore} records dropped before this one)` : ""}`;
}

async function runSubcommand(
  sub: string,
  rest: string[],
  io: CommandIo,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: {
      ...CONTROL_FLAGS,
      source: { type: "boolean" },
      from: { type: "string" },
      to: { type: "string" },
      port: { type: "string" },
      "src-port": { type: "string" },
      perm: { type: "string" },
      json: { type: "boolean" },
      watch: { type: "boolean" },
    },
  });
  const connect = () =>
    resolveControl({ control: values.control, adminTokenFile: values["admin-token-file"] }, env);
  const onePositional = (what: string): string => {
    if (positionals.length !== 1 || positionals[0] === undefined)
      throw new UsageError(`policy ${sub} needs exactly one ${what}`);
    return positionals[0];
  };
  const noPositionals = (): void => {
    if (positionals.length > 0)
      throw new UsageError(`policy ${sub}: unexpected argument ${JSON.stringify(positionals[0])}`);
  };

  switch (sub) {
    case "validate": {
      const file = onePositional("FILE");
      const result = compilePolicy(readPolicyFile(file), file);
      if (!result.ok) {
        for (const e of result.errors) io.error(formatDiagnostic(e));
        io.error(`${file}: ${result.errors.length} error(s)`);
        return ExitCode.FAILURE;
      }
      io.log(
        `${file}: ok (${result.policy.typeCount} types, ${result.policy.attributeCount} attributes, ${result.policy.rules.length} allow rules)`,
      );
      return ExitCode.OK;
    }
    case "load": {
      const file = onePositional("FILE");
      const source = readPolicyFile(file);
      const control = connect();
      // Compile here first so every error is shown, not only those that fit in a gRPC status.
      const result = compilePolicy(source, file);
      if (!result.ok) {
        for (const e of result.errors) io.error(formatDiagnostic(e));
        io.error(`${file}: ${result.errors.length} error(s); nothing loaded`);
        return ExitCode.FAILURE;
      }
      const info = await withToolstack(control, (c) => c.loadPolicy(source, file));
      io.log(
        `policy ${info.fileName} loaded: generation ${info.generation}, ${info.types} types, ${info.allowRules} allow rules, sha256 ${info.sha256.slice(0, 16)}…`,
      );
      return ExitCode.OK;
    }
    case "show": {
      noPositionals();
      const { info, source } = await withToolstack(connect(), (c) => c.getPolicy());
      io.log(`xsm module: ${info.xsmModule}`);
      if (info.xsmModule === "flask") io.log(`flask mode: ${info.flaskMode}`);
      if (!info.loaded)
        io.log(
          info.xsmModule === "flask"
            ? "policy: none loaded (flask allows everything until one is)"
            : "policy: none",
        );
      else {
        io.log(`policy: ${info.fileName} (generation ${info.generation}, loaded ${info.loadedAt})`);
        io.log(
          `  ${info.types} types, ${info.attributes} attributes, ${info.allowRules} allow rules, sha256 ${info.sha256}`,
        );
      }
      if (values.source === true && info.loaded) io.log(source);
      return ExitCode.OK;
    }
    case "check": {
      noPositionals();
      const perm = values.perm ?? "send";
      const permission = PERMISSIONS.find((p) => p === perm);
      if (permission === undefined)
        throw new UsageError(
          `--perm ${JSON.stringify(perm)}: expected one of ${PERMISSIONS.join(", ")}`,
        );
      if (values.from === undefined) throw new UsageError("policy check needs --from DOMID|LABEL");
      const needsTarget = permission === "send" || permission === "register_single_source";
      if (needsTarget && values.to === undefined)
        throw new UsageError(`policy check --perm ${permission} needs --to DOMID|LABEL`);
      if (!needsTarget && values.to !== undefined)
        throw new UsageError(`--perm ${permission} is checked against Xen itself; drop --to`);
      const query = {
        source: subject("--from", values.from),
        ...(values.to === undefined ? {} : { target: subject("--to", values.to) }),
        permission,
        dstPort: values.port === undefined ? 0 : parseUint("--port", values.port),
        srcPort: values["src-port"] === undefined ? 0 : parseUint("--src-port", values["src-port"]),
      };
      const control = connect();
      const r = await withToolstack(control, (c) => c.checkAccess(query));
      if (values.json === true) io.log(JSON.stringify(r, null, 2));
      else for (const line of formatCheck(r)) io.log(line);
      // A script can use `hmx policy check` as a test: 0 allowed, 3 denied (exit-codes.ts).
      return r.allowed ? ExitCode.OK : ExitCode.DENIED;
    }
    case "mode": {
      const mode = onePositional("mode (enforcing or permissive)");
      if (mode !== "enforcing" && mode !== "permissive")
        throw new UsageError(`mode ${JSON.stringify(mode)}: expected enforcing or permissive`);
      await withToolstack(connect(), (c) => c.setFlaskMode(mode));
      io.log(`flask mode: ${mode}`);
      return ExitCode.OK;
    }
    case "audit": {
      noPositionals();
      const control = connect();
      if (values.watch !== true) {
        const c = await withToolstack(control, (client) => client.getAuditCounters());
        io.log(
          `denials: ${c.denials} (log lines suppressed by the rate limit: ${c.logSuppressed})`,
        );
        io.log("by permission:");
        for (const [k, n] of c.byPermission) io.log(`  ${String(n).padStart(8)}  ${k}`);
        io.log("by rule:");
        for (const [k, n] of c.byRule) io.log(`  ${String(n).padStart(8)}  ${k}`);
        return ExitCode.OK;
      }
      await withToolstack(control, (client: ToolstackClient) => {
        const watch = client.watchAudit((r) => {
          io.log(formatAudit(r));
        });
        const off = onShutdownSignal(() => {
          watch.cancel();
        });
        return watch.done.finally(off);
      });
      return ExitCode.OK;
    }
    default:
      throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
  }
}

export async function runPolicyCommand(
  argv: string[],
  io: CommandIo = CONSOLE_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (
    sub === undefined ||
    sub === "-h" ||
    sub === "--help" ||
    sub === "help" ||
    rest.includes("--help") ||
    rest.includes("-h")
  ) {
    io.log(POLICY_USAGE);
    return sub === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  try {
    return await runSubcommand(sub, rest, io, env);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (
      err instanceof UsageError ||
      (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))
    ) {
      return usageError("policy", (err as Error).message, (line) => {
        io.error(line);
      });
    }
    if (err instanceof PolicyFileError) {
      io.error(`hmx policy ${sub}: ${err.message}`);
      return ExitCode.FAILURE;
    }
    io.error(`hmx policy ${sub}: ${describeError(err)}`);
    return ExitCode.FAILURE;
  }
}
