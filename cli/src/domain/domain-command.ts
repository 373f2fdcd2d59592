// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx domain list|create|destroy`: the toolstack's domain lifecycle from a shell (Xen's
 * `xl list` / `xl create` / `xl destroy`), against the `hmx up` running from this checkout with
 * no flags, or any hypervisor with `--control` and the admin token. Every value is checked
 * before anything is sent, and a `destroy` of several domains resolves them all first, so a bad
 * one changes nothing.
 */
import { type DomainView } from "@hmx/client";
import { parseSize } from "@hmx/hypervisor";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ExitCode } from "../exit-codes.js";
import {
  CONSOLE_IO,
  CONTROL_OPTIONS_USAGE,
  UsageError,
  resolveControl,
  runAdminCommand,
  withToolstack,
  type CommandIo,
  CONTROL_FLAGS,
} from "../commands/control.js";

export const DOMAIN_USAGE = `usage: hmx domain SUBCOMMAND [options] [--control HOST:PORT] [--admin-token-file FILE]

subcommands:
  list [--json]        live domains: domid, name, label, memory, rings, link, messages, errnos
  create NAME --label LABEL [--memory SIZE] [--privileged] [--credential-file FILE] [--json]
                       create a domain (SIZE in bytes or with K/M/G, a multiple of 4K, at least
                       64K; default 16M). Prints its domid and credential (the token its guest
                       presents; the toolstack shows it only once), or writes the credential
                       to FILE (mode 0600) and prints only the domid
  destroy DOMAIN...    destroy domains by domid or name (Xen's argo_destroy: their rings and
                       every ring they were partner of go); all are looked up before any goes

${CONTROL_OPTIONS_USAGE}
  -h, --help           show this help

Run a guest in a created domain: hmx guest --hypervisor HOST:PORT --credential-file FILE`;

/** CreateDomain's name and label rules (toolstack.proto), checked here to name the bad value. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const LABEL = /^[A-Za-z0-9_.:-]{1,64}$/;
const MIN_MEMORY = 64 * 1024;
const DEFAULT_MEMORY = 16 * 1024 * 1024;

/** `--memory`: bytes or K/M/G, a multiple of 4 KiB and at least 64 KiB, or UsageError. */
export function parseDomainMemory(value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined || bytes < MIN_MEMORY || bytes % 4096 !== 0)
    throw new UsageError(
      `--memory ${JSON.stringify(value)}: expected a size (bytes, or with K, M or G) that is a multiple of 4K and at least 64K`,
    );
  return bytes;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)}M`;
}

/** `hmx domain list` as a table, one domain per line. */
export function formatDomainTable(domains: readonly DomainView[]): string[] {
  const rows = domains.map((d) => [
    String(d.domid),
    d.name,
    d.label,
    `${mib(d.memoryResidentBytes)}/${mib(d.memoryBytes)}`,
    String(d.rings),
    d.connected ? "up" : "down",
    String(d.counters.messagesSent),
    String(d.counters.messagesReceived),
    String(d.counters.errors),
  ]);
  const header = ["DOMID", "NAME", "LABEL", "MEMORY", "RINGS", "LINK", "SENT", "RECV", "ERRNO"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  return [header, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

/** The domids `destroy` names (domids or names), all resolved before any is destroyed. */
export function resolveDomains(names: readonly string[], live: readonly DomainView[]): number[] {
  return names.map((name) => {
    const byId = /^\d+$/.test(name) ? live.find((d) => d.domid === Number(name)) : undefined;
    const found = byId ?? live.find((d) => d.name === name);
    if (found === undefined)
      throw new UsageError(
        `no live domain ${JSON.stringify(name)} (live: ${live.map((d) => `${d.domid} ${d.name}`).join(", ") || "none"})`,
      );
    return found.domid;
  });
}

export async function runDomainCommand(
  argv: string[],
  io: CommandIo = CONSOLE_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || ["-h", "--help", "help"].includes(sub) || rest.includes("--help")) {
    io.log(DOMAIN_USAGE);
    return sub === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  return runAdminCommand(`domain ${sub}`, io, async () => {
    const { values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        ...CONTROL_FLAGS,
        json: { type: "boolean" },
        label: { type: "string" },
        memory: { type: "string" },
        privileged: { type: "boolean" },
        "credential-file": { type: "string" },
      },
    });
    const onlyFor = (flags: readonly string[], subcommand: string) => {
      for (const flag of flags)
        if ((values as Record<string, unknown>)[flag] !== undefined)
          throw new UsageError(`--${flag} is an option of 'domain ${subcommand}' only`);
    };
    const connect = () =>
      resolveControl({ control: values.control, adminTokenFile: values["admin-token-file"] }, env);
    switch (sub) {
      case "list": {
        onlyFor(["label", "memory", "privileged", "credential-file"], "create");
        if (positionals.length > 0)
          throw new UsageError(
            `domain list: unexpected argument ${JSON.stringify(positionals[0])}`,
          );
        const domains = await withToolstack(connect(), (c) => c.listDomains());
        if (values.json === true) io.log(JSON.stringify(domains, null, 2));
        else for (const line of formatDomainTable(domains)) io.log(line);
        return ExitCode.OK;
      }
      case "create": {
        const [name, ...extra] = positionals;
        if (name === undefined || extra.length > 0)
          throw new UsageError("domain create needs exactly one NAME");
        if (!NAME.test(name))
          throw new UsageError(
            `domain name ${JSON.stringify(name)}: expected 1..64 characters of [A-Za-z0-9._-]`,
          );
        if (values.label === undefined) throw new UsageError("domain create needs --label LABEL");
        if (!LABEL.test(values.label))
          throw new UsageError(
            `--label ${JSON.stringify(values.label)}: expected 1..64 characters of [A-Za-z0-9_.:-]`,
          );
        const memoryBytes =
          values.memory === undefined ? DEFAULT_MEMORY : parseDomainMemory(values.memory);
        const created = await withToolstack(connect(), (c) =>
          c.createDomain({
            name,
            label: values.label ?? "",
            memoryBytes,
            privileged: values.privileged === true,
          }),
        );
        const file = values["credential-file"];
        if (file !== undefined) writeFileSync(file, `${created.credential}\n`, { mode: 0o600 });
        const credential = file === undefined ? { credential: created.credential } : {};
        if (values.json === true)
          io.log(JSON.stringify({ domid: created.domid, name, ...credential }));
        else {
          io.log(`domain ${created.domid} created (${name}, ${values.label}, ${mib(memoryBytes)})`);
          io.log(
            file === undefined
              ? `credential: ${created.credential}`
              : `credential written to ${file}`,
          );
        }
        return ExitCode.OK;
      }
      case "destroy": {
        onlyFor(["label", "memory", "privileged", "credential-file", "json"], "create/list");
        if (positionals.length === 0)
          throw new UsageError("domain destroy needs at least one DOMAIN (a domid or a name)");
        await withToolstack(connect(), async (c) => {
          const domids = resolveDomains(positionals, await c.listDomains());
          for (const domid of new Set(domids)) {
            await c.destroyDomain(domid);
            io.log(`domain ${domid} destroyed`);
          }
        });
        return ExitCode.OK;
      }
      default:
        throw new UsageError(
          `unknown subcommand ${JSON.stringify(sub)} (domain subcommands: list, create, destroy)`,
        );
    }
  });
}
