// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx chaos`: ad hoc faults against a running hypervisor through the toolstack's fault RPCs
 * (docs/chaos.md): partition domains or groups, -EAGAIN storms, slow hypercalls, late VIRQs,
 * paused domains, and link faults by domain name; list, clear and watch them. With no
 * `--control`, it reaches the `hmx up` running from this checkout (`.hmx/up.json`), like
 * `hmx policy`. Usage errors name the bad value (exit 2); refused faults exit 1.
 */
import type { FaultSpecView, FaultView, ToolstackClient } from "@hmx/client";
import { parseArgs } from "node:util";

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
} from "../commands/control.js";
import { ExitCode } from "../exit-codes.js";
import { usageError } from "../parse-command.js";
import { onShutdownSignal } from "../shutdown.js";
import { parseDuration } from "./duration.js";
import { readFleetStatus } from "../up/fleet-status.js";
import { readUpPointer } from "../up/run-dir.js";
import { receiverFigures } from "./delivery-checks.js";
import type { ComposeFleet } from "./docker-fleet.js";
import { chooseProcessControl } from "./docker-target.js";
import { UP_PROCESS_CONTROL, type ProcessControl, type ProcessFault } from "./process-faults.js";
import type { RunOptions } from "./run-schedule.js";
import { runSchedule } from "./run-schedule.js";
import { expandScheduleFile, readScheduleFile } from "./schedule-file.js";

export const CHAOS_USAGE = `usage: hmx chaos SUBCOMMAND [options] [--control HOST:PORT] [--admin-token-file FILE]

Argo-level faults (each shows a guest only what Xen's Argo can show it; docs/chaos.md).
A GROUP is one domain name or several joined by commas (guest-1,guest-2):
  partition GROUP GROUP [--one-way] [--refused]
                       cut the two groups apart, both ways unless --one-way (then only the first
                       group's sends); a cut sender sees a full ring (-EAGAIN, its VIRQ at the
                       heal), or with --refused a missing one (-ECONNREFUSED)
  eagain GROUP [GROUP] [--probability P]
                       -EAGAIN storm: the first group's sendvs (to the second, default: anyone)
                       are refused with chance P (default 1), as by a ring full that instant
  delay GROUP --by DURATION [--jitter DURATION]
                       a slow hypervisor: the group's hypercalls start DURATION late, in order
  late-virq GROUP --by DURATION [--jitter DURATION]
                       the group's VIRQs arrive DURATION late
  pause GROUP          the group runs no hypercall and receives no VIRQ until cleared
Link faults (the guest's link to the hypervisor; needs hmx hypervisor --link-faults):
  link DOMAIN down     take the link down
  link DOMAIN TOXIC [--attr NAME=N ...] [--stream upstream|downstream] [--toxicity P] [--name N]
                       add a Toxiproxy toxic: latency, bandwidth, slow_close, timeout,
                       reset_peer, slicer, limit_data (e.g. link guest-1 latency --attr latency=200)
Every fault above takes --for DURATION: it ends by itself (DURATION: 500ms, 5s, 2m).
Process faults (NAME is a guest or "hypervisor"), on the hmx up running from this checkout or,
with --target compose [--project P], on a compose fleet's containers through the Docker Engine
API (a container also by service-number, e.g. guest-2); the target is found when only one runs:
  kill NAME [--signal SIGKILL|SIGTERM]
                       kill the process (default SIGKILL); hmx up restarts it, resuming its
                       domain (a guest) or its domains (the hypervisor) from its state dir
  stop NAME [--for DURATION]
                       pause the process (SIGSTOP); with --for, continue it after DURATION
  cont NAME            continue a stopped process (SIGCONT)
  restart NAME         stop it cleanly (SIGTERM); hmx up starts it again
                       (compose: a kill or clean stop is followed by a start, stop is docker
                       pause, cont docker unpause, restart docker restart)
Managing faults:
  list [--json]        the faults in force, with their ids
  clear [ID ...]       end the faults named, or every fault
  watch                print each fault's start and end until Ctrl-C
Schedules (docs/chaos.md "Schedules"):
  run FILE [--seed N] [--out DIR] [--liveness DURATION] [--target up|compose] [--project P]
                       play a YAML or JSON schedule (a timeline and seeded generators) against the
                       hypervisor, then check: every fault applied, every fault healed, messages
                       moving again within --liveness (default 5s) of each heal, and against
                       this checkout's hmx up no loss, no duplication, per-pair FIFO (the
                       sinks' figures) and MAC respected (the history), against a compose
                       fleet the same from its guests' own figures (their logs) and its
                       hypervisor's published history; writes
                       history.jsonl, results.json, junit.xml, summary.txt and timeline.svg
                       (faults against per-pair message rates) to DIR (default
                       chaos-results); exit 0 only if every check passed

${CONTROL_OPTIONS_USAGE}
  -h, --help           show this help`;

function parseProbability(flag: string, value: string): number {
  const p = Number(value);
  if (value.trim() === "" || !(p > 0 && p <= 1))
    throw new UsageError(`${flag} ${JSON.stringify(value)}: expected a number in (0, 1]`);
  return p;
}

function group(what: string, value: string | undefined): string[] {
  const names = (value ?? "").split(",");
  if (value === undefined || names.some((n) => !/^[A-Za-z0-9._-]{1,64}$/.test(n)))
    throw new UsageError(
      `${what} ${JSON.stringify(value ?? "")}: expected a domain name or names joined by commas`,
    );
  return names;
}

/** `--attr NAME=N` values as a toxic's attributes. */
function attributes(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values) {
    const match = /^([a-z_]+)=(\d+)$/.exec(value);
    if (match === null)
      throw new UsageError(`--attr ${JSON.stringify(value)}: expected NAME=N, e.g. latency=200`);
    out[match[1] ?? ""] = Number(match[2]);
  }
  return out;
}

type Parsed = ReturnType<typeof parseFlags>;

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      ...CONTROL_FLAGS,
      for: { type: "string" },
      "one-way": { type: "boolean" },
      refused: { type: "boolean" },
      probability: { type: "string" },
      by: { type: "string" },
      jitter: { type: "string" },
      attr: { type: "string", multiple: true },
      stream: { type: "string" },
      toxicity: { type: "string" },
      name: { type: "string" },
      json: { type: "boolean" },
      seed: { type: "string" },
      out: { type: "string" },
      liveness: { type: "string" },
      signal: { type: "string" },
      target: { type: "string" },
      project: { type: "string" },
    },
  });
}

/** What a subcommand asks of the toolstack. */
export type ChaosAction =
  | { readonly op: "apply"; readonly fault: FaultSpecView }
  | { readonly op: "list"; readonly json: boolean }
  | { readonly op: "clear"; readonly ids: readonly string[] }
  | { readonly op: "watch" }
  | { readonly op: "process"; readonly fault: ProcessFault }
  | {
      readonly op: "run";
      readonly file: string;
      readonly seed: number | undefined;
      readonly outDir: string;
      readonly livenessMs: number;
    };

/** Flags a subcommand accepts beyond --control and --admin-token-file. */
const SUB_FLAGS: Readonly<Record<string, readonly string[]>> = {
  partition: ["for", "one-way", "refused"],
  eagain: ["for", "probability"],
  delay: ["for", "by", "jitter"],
  "late-virq": ["for", "by", "jitter"],
  pause: ["for"],
  link: ["for", "attr", "stream", "toxicity", "name"],
  list: ["json"],
  clear: [],
  watch: [],
  run: ["seed", "out", "liveness", "target", "project"],
  kill: ["signal", "target", "project"],
  stop: ["for", "target", "project"],
  cont: ["target", "project"],
  restart: ["target", "project"],
};

/** The action of `hmx chaos SUB ARGS...`; UsageError names any bad value. */
export function parseChaosArgs(sub: string, args: readonly string[]): ChaosAction {
  const allowed = SUB_FLAGS[sub];
  if (allowed === undefined)
    throw new UsageError(
      `unknown subcommand ${JSON.stringify(sub)} (subcommands: ${Object.keys(SUB_FLAGS).join(", ")})`,
    );
  const { values, positionals } = parseFlags([...args]);
  for (const flag of Object.keys(values)) {
    if (flag !== "control" && flag !== "admin-token-file" && !allowed.includes(flag))
      throw new UsageError(`chaos ${sub} takes no --${flag}`);
  }
  const positionalCount = (min: number, max: number, what: string): void => {
    if (positionals.length < min || positionals.length > max)
      throw new UsageError(`chaos ${sub} needs ${what}`);
  };
  const durationMs = values.for === undefined ? 0 : parseDuration("--for", values.for);
  const apply = (fault: FaultSpecView): ChaosAction => ({
    op: "apply",
    fault: { ...fault, ...(durationMs > 0 ? { durationMs } : {}) },
  });
  const late = (): { delayMs: number; jitterMs?: number } => {
    if (values.by === undefined) throw new UsageError(`chaos ${sub} needs --by DURATION`);
    const delayMs = parseDuration("--by", values.by);
    if (delayMs < 1) throw new UsageError(`--by ${JSON.stringify(values.by)}: at least 1ms`);
    return values.jitter === undefined
      ? { delayMs }
      : { delayMs, jitterMs: parseDuration("--jitter", values.jitter) };
  };
  switch (sub) {
    case "partition":
      positionalCount(2, 2, "two groups: hmx chaos partition GROUP GROUP");
      return apply({
        argo: {
          type: "partition",
          from: group("first group", positionals[0]),
          to: group("second group", positionals[1]),
          bothWays: values["one-way"] !== true,
          show: values.refused === true ? "refused" : "full",
        },
      });
    case "eagain":
      positionalCount(1, 2, "a group and optionally a destination group");
      return apply({
        argo: {
          type: "eagain",
          from: group("group", positionals[0]),
          ...(positionals[1] === undefined
            ? {}
            : { to: group("destination group", positionals[1]) }),
          ...(values.probability === undefined
            ? {}
            : { probability: parseProbability("--probability", values.probability) }),
        },
      });
    case "delay":
    case "late-virq":
      positionalCount(1, 1, "one group");
      return apply({
        argo: {
          type: sub === "delay" ? "delay" : "late_virq",
          from: group("group", positionals[0]),
          ...late(),
        },
      });
    case "pause":
      positionalCount(1, 1, "one group");
      return apply({ argo: { type: "pause", from: group("group", positionals[0]) } });
    case "link": {
      positionalCount(2, 2, "a domain and 'down' or a toxic type");
      const [domain] = group("domain", positionals[0]);
      const what = positionals[1] ?? "";
      if (what === "down") {
        if (values.attr || values.stream || values.toxicity || values.name)
          throw new UsageError("chaos link DOMAIN down takes no toxic options");
        return apply({ link: { domain: domain ?? "", down: true } });
      }
      const stream = values.stream;
      if (stream !== undefined && stream !== "upstream" && stream !== "downstream")
        throw new UsageError(`--stream ${JSON.stringify(stream)}: expected upstream or downstream`);
      return apply({
        link: {
          domain: domain ?? "",
          toxic: {
            type: what,
            ...(values.name === undefined ? {} : { name: values.name }),
            ...(stream === undefined ? {} : { stream }),
            ...(values.toxicity === undefined ? {} : { toxicity: Number(values.toxicity) }),
            attributes: attributes(values.attr ?? []),
          },
        },
      });
    }
    case "list":
      positionalCount(0, 0, "no arguments");
      return { op: "list", json: values.json === true };
    case "clear":
      return { op: "clear", ids: positionals };
    case "run":
      positionalCount(1, 1, "one schedule FILE");
      return {
        op: "run",
        file: positionals[0] ?? "",
        seed: values.seed === undefined ? undefined : parseUint("--seed", values.seed),
        outDir: values.out ?? "chaos-results",
        livenessMs:
          values.liveness === undefined ? 5000 : parseDuration("--liveness", values.liveness),
      };
    case "kill":
    case "stop":
    case "cont":
    case "restart": {
      positionalCount(1, 1, "one process NAME (a guest or hypervisor)");
      const target = positionals[0] ?? "";
      if (sub !== "kill")
        return { op: "process", fault: { action: sub, target, forMs: durationMs } };
      const signal = values.signal ?? "SIGKILL";
      if (signal !== "SIGKILL" && signal !== "SIGTERM")
        throw new UsageError(`--signal ${JSON.stringify(signal)}: expected SIGKILL or SIGTERM`);
      return {
        op: "process",
        fault: { action: signal === "SIGKILL" ? "kill" : "terminate", target },
      };
    }
    default:
      positionalCount(0, 0, "no arguments");
      return { op: "watch" };
  }
}

function formatDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** One line per fault: its id, then what it does. */
export function describeFault(f: FaultView): string {
  const ends = f.durationMs === undefined ? "" : ` for ${formatDuration(f.durationMs)}`;
  if ("link" in f) {
    const { domain, toxic } = f.link;
    const what =
      toxic === undefined
        ? "down"
        : `${toxic.type} ${toxic.stream ?? ""} ${JSON.stringify(toxic.attributes ?? {})}`;
    return `${f.id}  link ${domain} ${what}${ends}`;
  }
  const a = f.argo;
  const from = a.from.join(",");
  const to = a.to === undefined ? "*" : a.to.join(",");
  const late = a.delayMs === undefined ? "" : ` by ${formatDuration(a.delayMs)}`;
  const jitter = a.jitterMs === undefined ? "" : ` ±${formatDuration(a.jitterMs)}`;
  const what: Record<string, string> = {
    partition: `partition ${from} ${a.bothWays === true ? "<->" : "->"} ${to} (${a.show ?? "full"})`,
    eagain: `eagain ${from} -> ${to} p=${a.probability ?? 1}`,
    delay: `delay ${from}${late}${jitter}`,
    late_virq: `late-virq ${from}${late}${jitter}`,
    pause: `pause ${from}`,
  };
  return `${f.id}  ${what[a.type] ?? a.type}${ends}`;
}

async function run(
  action: Exclude<ChaosAction, { op: "process" }>,
  client: ToolstackClient,
  io: CommandIo,
  fleet: Pick<RunOptions, "history" | "receivers" | "processFault">,
): Promise<number> {
  switch (action.op) {
    case "apply":
      io.log(`started ${describeFault(await client.applyFault(action.fault))}`);
      return ExitCode.OK;
    case "list": {
      const faults = await client.listFaults();
      if (action.json) io.log(JSON.stringify(faults, null, 2));
      else if (faults.length === 0) io.log("no faults in force");
      else for (const f of faults) io.log(describeFault(f));
      return ExitCode.OK;
    }
    case "clear": {
      const cleared = await client.clearFaults(action.ids);
      io.log(cleared.length === 0 ? "no faults in force" : `cleared ${cleared.join(", ")}`);
      return ExitCode.OK;
    }
    case "run": {
      const source = readScheduleFile(action.file);
      const domains = (await client.listDomains()).map((d) => d.name);
      const schedule = expandScheduleFile(
        source,
        domains,
        action.seed,
        Math.floor(Math.random() * 2 ** 32),
      );
      const passed = await runSchedule({
        client,
        schedule,
        outDir: action.outDir,
        io,
        livenessMs: action.livenessMs,
        ...fleet,
      });
      return passed ? ExitCode.OK : ExitCode.FAILURE;
    }
    case "watch": {
      const watch = client.watchFaults((e) => {
        io.log(
          `${new Date(e.timeMs).toISOString()} ${e.action} ${e.id} ${e.target} ${JSON.stringify(e.detail)}`,
        );
      });
      const off = onShutdownSignal(() => {
        watch.cancel();
      });
      await watch.done.finally(off);
      return ExitCode.OK;
    }
  }
}

/**
 * Where a schedule run against the `hmx up` of this checkout finds the history (MAC check) and
 * the sinks' figures (loss, duplication, FIFO checks); against a compose fleet, where its process
 * faults go, its guests' figures (docker-fleet.ts) and, when the run talks to that fleet's own
 * hypervisor, the history its published HTTP listener serves; nothing for another hypervisor.
 */
async function fleetSources(
  options: { control: string; adminToken: string },
  processes: (ProcessControl & { readonly fleet?: ComposeFleet }) | undefined,
): Promise<Pick<RunOptions, "history" | "receivers" | "processFault">> {
  // A compose fleet: its containers take the faults and its guests report the figures.
  if (processes !== undefined && processes !== UP_PROCESS_CONTROL) {
    const fleet = processes.fleet;
    const ownHypervisor = fleet !== undefined && (await fleet.controlAddress()) === options.control;
    const history = ownHypervisor ? await fleet.historyAddress() : undefined;
    return {
      processFault: (fault) => processes.apply(fault),
      ...(processes.receivers === undefined ? {} : { receivers: processes.receivers }),
      ...(history === undefined
        ? {}
        : { history: { address: history, adminToken: options.adminToken } }),
    };
  }
  const up = readUpPointer();
  if (up?.control !== options.control) return {};
  return {
    ...(up.httpListen === undefined
      ? {}
      : { history: { address: up.httpListen, adminToken: options.adminToken } }),
    receivers: () =>
      readFleetStatus(up.runDir).guests.flatMap((g) => {
        const figures = g.workload === "sink" ? receiverFigures(g.name, g.stats) : undefined;
        return figures === undefined ? [] : [figures];
      }),
  };
}

export async function runChaosCommand(
  argv: string[],
  io: CommandIo = CONSOLE_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || ["-h", "--help", "help"].includes(sub) || rest.includes("--help")) {
    io.log(CHAOS_USAGE);
    return sub === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  let action: ChaosAction;
  let flags: Parsed["values"];
  try {
    action = parseChaosArgs(sub, rest);
    flags = parseFlags(rest).values;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (
      err instanceof UsageError ||
      (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))
    )
      return usageError("chaos", (err as Error).message, (line) => {
        io.error(line);
      });
    throw err;
  }
  const usage = (err: unknown): number | undefined =>
    err instanceof UsageError
      ? usageError("chaos", err.message, (line) => {
          io.error(line);
        })
      : undefined;
  if (action.op === "process") {
    try {
      const processes = await chooseProcessControl(flags, env, true);
      io.log(await (processes ?? UP_PROCESS_CONTROL).apply(action.fault));
      return ExitCode.OK;
    } catch (err) {
      const code = usage(err);
      if (code !== undefined) return code;
      io.error(`hmx chaos ${sub}: ${(err as Error).message}`);
      return ExitCode.FAILURE;
    }
  }
  try {
    // A schedule's process faults and figures: hmx up's or a compose fleet's (--target).
    const processes =
      action.op === "run" ? await chooseProcessControl(flags, env, false) : undefined;
    // The compose fleet's toolstack is where its hypervisor's port is published.
    const composeControl =
      flags.control === undefined && (env["HMX_CONTROL"] ?? "") === ""
        ? await processes?.fleet?.controlAddress()
        : undefined;
    const options = resolveControl(
      { control: flags.control ?? composeControl, adminTokenFile: flags["admin-token-file"] },
      env,
    );
    const toolstackAction = action;
    const fleet = await fleetSources(options, processes);
    return await withToolstack(options, (client) => run(toolstackAction, client, io, fleet));
  } catch (err) {
    const code = usage(err);
    if (code !== undefined) return code;
    io.error(`hmx chaos ${sub}: ${describeError(err)}`);
    return ExitCode.FAILURE;
  }
}
