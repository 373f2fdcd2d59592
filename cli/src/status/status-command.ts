// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx status [--json]`: one look at a running hypervisor — where it listens, its MAC policy,
 * its domains with their totals and, when its HTTP listener is known, its health, the faults
 * injected now and the history's size. With no flags it reads the `hmx up` running from this
 * checkout. Exit 0 when the toolstack answered, 1 when it did not.
 */
import type { DomainView, PolicyInfoView } from "@hmx/client";
import { ExitCode } from "../exit-codes.js";
import {
  CONSOLE_IO,
  CONTROL_OPTIONS_USAGE,
  UsageError,
  resolveControl,
  runAdminCommand,
  withToolstack,
  type CommandIo,
} from "../commands/control.js";
import { formatDomainTable } from "../domain/domain-command.js";
import { findHttpTarget, type HttpTarget } from "../history/http-target.js";
import { parseCommand } from "../parse-command.js";
import { readUpPointer } from "../up/run-dir.js";

export const STATUS_USAGE = `usage: hmx status [--json] [--control HOST:PORT] [--http HOST:PORT] [--admin-token-file FILE]

Shows a running hypervisor: its addresses, MAC policy, domains and totals, and (when its HTTP
listener is known) health, active faults and the history's size. --json prints one object.

${CONTROL_OPTIONS_USAGE}
  --http HOST:PORT           its HTTP listener (env HMX_HTTP; default: that of the 'hmx up')
  -h, --help                 show this help`;

/** What the HTTP listener adds to the status (undefined fields: not exposed, or unreachable). */
export interface HttpStatus {
  readonly address: string;
  readonly health: string;
  readonly faultsActive?: number;
  readonly historyEvents?: number;
  readonly historySubscribers?: number;
}

export interface StatusRecord {
  readonly control: string;
  /** Where the addresses came from: the `hmx up` of this checkout, or flags and environment. */
  readonly source: string;
  readonly policy: PolicyInfoView;
  readonly totals: {
    readonly domains: number;
    readonly linked: number;
    readonly rings: number;
    readonly hypercalls: number;
    readonly errnos: number;
    readonly messages: number;
    readonly bytes: number;
  };
  readonly domains: readonly DomainView[];
  readonly http?: HttpStatus;
}

/** The value of an unlabelled sample `name value` in a Prometheus text exposition. */
export function sampleValue(exposition: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(exposition);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

async function httpStatus(target: HttpTarget): Promise<HttpStatus> {
  const base = `http://${target.http}`;
  const signal = AbortSignal.timeout(5000);
  let health: string;
  try {
    const res = await fetch(`${base}/healthz`, { signal });
    health = ((await res.json()) as { status?: string }).status ?? `HTTP ${res.status}`;
  } catch (err) {
    return { address: target.http, health: `unreachable (${(err as Error).message})` };
  }
  const res = await fetch(`${base}/metrics`, {
    headers: { authorization: `Bearer ${target.adminToken}` },
    signal,
  });
  if (!res.ok) return { address: target.http, health };
  const text = await res.text();
  const pick = (key: string, name: string) => {
    const v = sampleValue(text, name);
    return v === undefined ? {} : { [key]: v };
  };
  return {
    address: target.http,
    health,
    ...pick("faultsActive", "hmx_faults_active"),
    ...pick("historyEvents", "hmx_history_events"),
    ...pick("historySubscribers", "hmx_history_subscribers"),
  };
}

function totalsOf(domains: readonly DomainView[]): StatusRecord["totals"] {
  const sum = (f: (d: DomainView) => number) => domains.reduce((n, d) => n + f(d), 0);
  return {
    domains: domains.length,
    linked: domains.filter((d) => d.connected).length,
    rings: sum((d) => d.rings),
    hypercalls: sum((d) => d.counters.hypercalls),
    errnos: sum((d) => d.counters.errors),
    messages: sum((d) => d.counters.messagesSent),
    bytes: sum((d) => d.counters.bytesSent),
  };
}

/** The human form of a status. */
export function formatStatus(s: StatusRecord): string[] {
  const t = s.totals;
  const p = s.policy;
  const lines = [
    `hypervisor: toolstack ${s.control}${s.http === undefined ? "" : `, http ${s.http.address}`} (${s.source})`,
  ];
  if (s.http !== undefined) {
    const extra = [
      s.http.faultsActive === undefined ? "" : `, ${s.http.faultsActive} faults active`,
      s.http.historyEvents === undefined ? "" : `, history ${s.http.historyEvents} events`,
      s.http.historySubscribers === undefined ? "" : ` (${s.http.historySubscribers} subscribers)`,
    ].join("");
    lines.push(`health: ${s.http.health}${extra}`);
  }
  lines.push(
    `mac: ${p.xsmModule}${p.xsmModule === "flask" ? ` (${p.flaskMode})` : ""}, ${p.loaded ? `policy ${p.fileName} generation ${p.generation}` : "no policy loaded"}`,
  );
  lines.push(
    `domains: ${t.domains} (${t.linked} linked), ${t.rings} rings, ${t.hypercalls} hypercalls (${t.errnos} errnos), ${t.messages} messages, ${t.bytes} bytes`,
  );
  if (s.domains.length > 0) lines.push("", ...formatDomainTable(s.domains));
  return lines;
}

export async function runStatusCommand(
  argv: string[],
  io: CommandIo = CONSOLE_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const parsed = parseCommand("status", STATUS_USAGE, argv, {
    json: { type: "boolean" },
    control: { type: "string" },
    http: { type: "string" },
    "admin-token-file": { type: "string" },
  });
  if ("exit" in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  return runAdminCommand("status", io, async () => {
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const flags = { control: values.control, adminTokenFile: values["admin-token-file"] };
    const control = resolveControl(flags, env);
    const up = readUpPointer();
    // The up's HTTP listener belongs to it: only with its toolstack (or when named).
    const http =
      values.http !== undefined || (env["HMX_HTTP"] ?? "") !== "" || control.control === up?.control
        ? findHttpTarget({ http: values.http, adminTokenFile: values["admin-token-file"] }, env)
        : undefined;
    const { domains, policy } = await withToolstack(control, async (c) => ({
      domains: await c.listDomains(),
      policy: (await c.getPolicy()).info,
    }));
    const record: StatusRecord = {
      control: control.control,
      source: control.control === up?.control ? `hmx up, pid ${up.pid}` : "flags and environment",
      policy,
      totals: totalsOf(domains),
      domains,
      ...(http === undefined ? {} : { http: await httpStatus(http) }),
    };
    if (values.json === true) io.log(JSON.stringify(record, null, 2));
    else for (const line of formatStatus(record)) io.log(line);
    return ExitCode.OK;
  });
}
