// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx history`: the hypervisor's event history (docs/harness.md) from a shell. Without
 * `--follow` it prints what the retained window holds (after `--since`, or its newest `--last`
 * N events) up to now and exits;
 * with `--follow` it goes on printing live events until Ctrl-C, resuming after a dropped
 * connection without losing or repeating an event (what the window lost arrives as a `gap`).
 */
import { DOMID_MAX } from "@hmx/proto/abi";
import {
  HISTORY_KINDS,
  HistorySubscriber,
  HistorySubscriberError,
  type HistoryKind,
} from "@hmx/client";
import { ExitCode } from "../exit-codes.js";
import { parseCommand, usageError } from "../parse-command.js";
import { onShutdownSignal } from "../shutdown.js";
import { CONSOLE_IO, UsageError, parseUint, type CommandIo } from "../commands/control.js";
import { formatHistoryEvent } from "./format-event.js";
import { HTTP_OPTIONS_USAGE, resolveHttpTarget } from "./http-target.js";

export const HISTORY_USAGE = `usage: hmx history [--since SEQ | --last N] [--kinds K,K] [--domid N] [--follow] [--json] [--format json|binary]

Prints the event history of the hypervisor (hypercalls, VIRQs, MAC denials, links, sessions,
domains, faults; docs/harness.md), one line per event. Without --follow it prints the retained
events up to now and exits; with --follow it keeps printing new ones until Ctrl-C.

  --since SEQ          start after SEQ (default: the oldest retained event; with --follow, the
                       next event). A SEQ the window no longer holds starts with a gap line
  -n, --last N         start with the newest N retained events (of those --kinds/--domid
                       pass; fewer if the window holds fewer), like tail -n
  --kinds K,K          only these kinds: ${HISTORY_KINDS.filter((k) => k !== "gap").join(", ")}
  --domid N            only events involving domain N
  -f, --follow         keep printing live events (reconnects and resumes if the link drops)
  --json               the events as the hypervisor sends them, one JSON object per line
  --format json|binary how they travel (default json): binary is the compact format of
                       docs/harness.md, decoded here into the same events and lines
${HTTP_OPTIONS_USAGE}
  -h, --help           show this help`;

/** `--kinds a,b` checked against the history's kinds, or UsageError naming the bad one. */
export function parseKinds(text: string): HistoryKind[] {
  return text.split(",").map((k) => {
    const kind = HISTORY_KINDS.find((known) => known === k.trim());
    if (kind === undefined)
      throw new UsageError(
        `--kinds: ${JSON.stringify(k)} is not a kind; expected some of ${HISTORY_KINDS.join(", ")}`,
      );
    return kind;
  });
}

/** `--last N`: a count of events, at least 1, or UsageError naming the bad value. */
export function parseLast(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || !Number.isSafeInteger(n))
    throw new UsageError(
      `--last ${JSON.stringify(text)}: expected a count of events, an integer in 1..${Number.MAX_SAFE_INTEGER}`,
    );
  return n;
}

export async function runHistoryCommand(
  argv: string[],
  io: CommandIo = CONSOLE_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const parsed = parseCommand("history", HISTORY_USAGE, argv, {
    since: { type: "string" },
    last: { type: "string", short: "n" },
    kinds: { type: "string" },
    domid: { type: "string" },
    follow: { type: "boolean", short: "f" },
    json: { type: "boolean" },
    format: { type: "string" },
    http: { type: "string" },
    "admin-token-file": { type: "string" },
  });
  if ("exit" in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  const follow = values.follow === true;
  let subscriber: HistorySubscriber;
  try {
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (values.since !== undefined && values.last !== undefined)
      throw new UsageError(
        "--since and --last are exclusive: resume after a seq, or take the last N events",
      );
    const last = values.last === undefined ? undefined : parseLast(values.last);
    const since =
      values.since === undefined
        ? follow || last !== undefined
          ? undefined
          : 0
        : parseUint("--since", values.since, Number.MAX_SAFE_INTEGER);
    const kinds = values.kinds === undefined ? undefined : parseKinds(values.kinds);
    const format = values.format ?? "json";
    if (format !== "json" && format !== "binary")
      throw new UsageError(`--format ${JSON.stringify(format)}: expected json or binary`);
    const domid =
      values.domid === undefined ? undefined : parseUint("--domid", values.domid, DOMID_MAX);
    const target = resolveHttpTarget(
      { http: values.http, adminTokenFile: values["admin-token-file"] },
      env,
    );
    subscriber = new HistorySubscriber({
      address: target.http,
      adminToken: target.adminToken,
      ...(since === undefined ? {} : { since }),
      ...(last === undefined ? {} : { last }),
      ...(follow ? {} : { until: "now" as const }),
      ...(kinds === undefined ? {} : { kinds }),
      ...(domid === undefined ? {} : { domid }),
      format,
      // Reading what happened so far is one connection; following rides out link drops.
      reconnect: follow,
      onEvent: (e) => {
        io.log(values.json === true ? JSON.stringify(e) : formatHistoryEvent(e));
      },
      onConnection: (c) => {
        if (c.state === "lost")
          io.error(`hmx history: ${c.reason}; reconnecting in ${c.retryInMs} ms`);
      },
    });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageError("history", err.message, (line) => {
      io.error(line);
    });
  }
  const off = onShutdownSignal(() => {
    subscriber.close();
  });
  // `hmx history | head`: the reader went away, which ends the command, not an error.
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") subscriber.close();
  };
  process.stdout.on("error", onStdoutError);
  try {
    await subscriber.done;
    return ExitCode.OK;
  } catch (err) {
    // The hypervisor refusing a value (400: a since from another run) is bad usage.
    if (err instanceof HistorySubscriberError && err.status === 400)
      return usageError("history", err.message, (line) => {
        io.error(line);
      });
    io.error(`hmx history: ${(err as Error).message}`);
    return ExitCode.FAILURE;
  } finally {
    off();
    process.stdout.off("error", onStdoutError);
  }
}
