// SPDX-License-Identifier: Apache-2.0
/**
 * Fault schedules as data (DESIGN §3.5): a timeline of faults at fixed times plus nemesis-style
 * generators (random halves, a one-way cut, a bridge, a majority ring, pausing a random guest,
 * link flaps), expanded with a seed into one sorted list of faults. The same seed and the same
 * domains give the same list, so a run can be replayed. A bad schedule is refused with a
 * message naming the bad field and value (and, read from a file, its line: schedule-file.ts).
 */
import type { FaultSpecView } from "@hmx/client";
import { seededRandom } from "@hmx/hypervisor";
import { UsageError } from "../commands/control.js";
import { parseDuration } from "./duration.js";
import { HYPERVISOR } from "./hypervisor-faults.js";
import { PROCESS_ACTIONS, type ProcessFault, type ProcessFaultAction } from "./process-faults.js";

export const GENERATORS = [
  "random-halves",
  "one-way",
  "bridge",
  "majority-ring",
  "pause-random",
  "link-flap",
  "kill-random",
  "stop-random",
  "hypervisor-kill",
  "hypervisor-restart",
] as const;
export type GeneratorKind = (typeof GENERATORS)[number];

/** One fault of an expanded schedule. */
export interface ScheduledFault {
  readonly atMs: number;
  readonly durationMs: number;
  /** Where it came from: "timeline[2]" or "generators[0] random-halves". */
  readonly source: string;
  /** A toolstack fault, or a process fault on the `hmx up` fleet (process-faults.ts). */
  readonly fault: FaultSpecView | { readonly process: ProcessFault };
}

export interface ExpandedSchedule {
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: readonly ScheduledFault[];
}

/** At most this many faults in one expanded schedule (a soak of hours stays far below). */
export const MAX_SCHEDULED_FAULTS = 100_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Where a value is in the schedule document: ["generators", 0, "every"]. */
export type SchedulePath = readonly (string | number)[];

/** A bad schedule: the message names the field; `path` lets a file reader add its line. */
export class ScheduleError extends UsageError {
  constructor(
    message: string,
    readonly path: SchedulePath,
  ) {
    super(message);
  }
}

/** `generators[0].every`, as the messages name a field. */
export function pathText(path: SchedulePath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function bad(path: SchedulePath, message: string): ScheduleError {
  return new ScheduleError(`schedule: ${message}`, path);
}

function duration(path: SchedulePath, value: unknown): number {
  const field = pathText(path);
  if (typeof value !== "string")
    throw bad(path, `${field} ${JSON.stringify(value)}: expected a duration like 500ms, 5s or 2m`);
  try {
    return parseDuration(field, value);
  } catch (err) {
    throw bad(path, (err as Error).message);
  }
}

/** The faults one generator makes over the domains, from the seeded draws. */
function generate(
  kind: GeneratorKind,
  domains: readonly string[],
  random: () => number,
): ScheduledFault["fault"] {
  const shuffled = [...domains];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] ?? "", shuffled[i] ?? ""];
  }
  const half = Math.max(1, Math.floor(shuffled.length / 2));
  const [first = "", second = ""] = shuffled;
  switch (kind) {
    case "random-halves":
      return {
        argo: {
          type: "partition",
          from: shuffled.slice(0, half),
          to: shuffled.slice(half),
          bothWays: true,
        },
      };
    case "one-way":
      return { argo: { type: "partition", from: [first], to: [second] } };
    case "bridge": {
      // Two halves cut apart; the first domain, the bridge, still reaches both.
      const rest = shuffled.slice(1);
      const mid = Math.max(1, Math.floor(rest.length / 2));
      return {
        argo: { type: "partition", from: rest.slice(0, mid), to: rest.slice(mid), bothWays: true },
      };
    }
    case "majority-ring":
      // On a ring of the shuffled domains, the first keeps only its two neighbours (a majority of 5).
      return {
        argo: {
          type: "partition",
          from: [first],
          to: shuffled.slice(2, shuffled.length - 1),
          bothWays: true,
        },
      };
    case "pause-random":
      return { argo: { type: "pause", from: [first] } };
    case "link-flap":
      return { link: { domain: first, down: true } };
    // A killed guest is restarted by hmx up at once; a stopped one is continued when it ends.
    case "kill-random":
      return { process: { action: "kill", target: first } };
    case "stop-random":
      return { process: { action: "stop", target: first } };
    // The hypervisor's outage lasts until it answers again (hypervisor-faults.ts); `for` is the
    // longest it may take.
    case "hypervisor-kill":
      return { process: { action: "kill", target: HYPERVISOR } };
    case "hypervisor-restart":
      return { process: { action: "restart", target: HYPERVISOR } };
  }
}

/** Minimum domains a generator needs. */
const MIN_DOMAINS: Readonly<Record<GeneratorKind, number>> = {
  "random-halves": 2,
  "one-way": 2,
  bridge: 3,
  "majority-ring": 4,
  "pause-random": 1,
  "link-flap": 1,
  "kill-random": 1,
  "stop-random": 1,
  "hypervisor-kill": 0,
  "hypervisor-restart": 0,
};

/**
 * Expands a parsed schedule (from YAML or JSON, schedule-file.ts) for these live domains.
 * `seedOverride` (--seed) wins over the file's `seed`; with neither, `fallbackSeed` is used (and
 * printed by the caller).
 */
export function expandSchedule(
  schedule: unknown,
  domains: readonly string[],
  seedOverride: number | undefined,
  fallbackSeed: number,
): ExpandedSchedule {
  if (!isRecord(schedule))
    throw bad(
      [],
      "expected an object (a YAML mapping or JSON object) with duration, timeline, generators",
    );
  for (const key of Object.keys(schedule))
    if (!["seed", "duration", "timeline", "generators", "description"].includes(key))
      throw bad(
        [key],
        `unknown field ${JSON.stringify(key)} (fields: seed, duration, timeline, generators, description)`,
      );
  const fileSeed = schedule["seed"];
  if (
    fileSeed !== undefined &&
    !(Number.isInteger(fileSeed) && (fileSeed as number) >= 0 && (fileSeed as number) <= 0xffffffff)
  )
    throw bad(["seed"], `seed ${JSON.stringify(fileSeed)}: expected an integer in 0..4294967295`);
  const seed = seedOverride ?? (fileSeed as number | undefined) ?? fallbackSeed;
  const durationMs = duration(["duration"], schedule["duration"]);
  const random = seededRandom(seed);
  const faults: ScheduledFault[] = [];
  const timeline = schedule["timeline"] ?? [];
  if (!Array.isArray(timeline)) throw bad(["timeline"], `timeline: expected a list`);
  for (const [i, entry] of timeline.entries()) {
    const at: SchedulePath = ["timeline", i];
    const where = pathText(at);
    if (!isRecord(entry) || !isRecord(entry["fault"]))
      throw bad(
        at,
        `${where}: expected {"at", "for", "fault": {"argo": …}, {"link": …} or {"process": …}}`,
      );
    const processFault = entry["fault"]["process"];
    if (
      processFault !== undefined &&
      !(
        isRecord(processFault) &&
        PROCESS_ACTIONS.includes(processFault["action"] as ProcessFaultAction) &&
        typeof processFault["target"] === "string"
      )
    )
      throw bad(
        [...at, "fault", "process"],
        `${where}.fault.process ${JSON.stringify(processFault)}: expected {"action": ${PROCESS_ACTIONS.join("|")}, "target": NAME}`,
      );
    const atMs = duration([...at, "at"], entry["at"]);
    faults.push({
      atMs,
      durationMs: duration([...at, "for"], entry["for"]),
      source: where,
      fault: entry["fault"] as ScheduledFault["fault"],
    });
  }
  const generators = schedule["generators"] ?? [];
  if (!Array.isArray(generators)) throw bad(["generators"], `generators: expected a list`);
  for (const [i, entry] of generators.entries()) {
    const at: SchedulePath = ["generators", i];
    const where = pathText(at);
    if (!isRecord(entry)) throw bad(at, `${where}: expected {"kind", "every", "for"}`);
    const kind = GENERATORS.find((k) => k === entry["kind"]);
    if (kind === undefined)
      throw bad(
        [...at, "kind"],
        `${where}.kind ${JSON.stringify(entry["kind"])}: expected one of ${GENERATORS.join(", ")}`,
      );
    const every = duration([...at, "every"], entry["every"]);
    const lasts = duration([...at, "for"], entry["for"]);
    if (every < 1)
      throw bad(
        [...at, "every"],
        `${where}.every 0: a generator needs an interval of at least 1ms`,
      );
    if (lasts >= every)
      throw bad(
        [...at, "for"],
        `${where}.for ${lasts}ms is not shorter than every ${every}ms: faults of one generator would overlap`,
      );
    const pool = entry["domains"] ?? domains;
    if (!Array.isArray(pool) || pool.some((d) => typeof d !== "string"))
      throw bad([...at, "domains"], `${where}.domains: expected a list of domain names`);
    // kill-random may draw the hypervisor too (a crash of the whole toolstack, hypervisor-faults.ts).
    const unknown = (pool as string[]).find(
      (d) => !domains.includes(d) && !(kind === "kill-random" && d === HYPERVISOR),
    );
    if (unknown !== undefined)
      throw bad(
        [...at, "domains", (pool as string[]).indexOf(unknown)],
        `${where}.domains: no live domain named ${JSON.stringify(unknown)}`,
      );
    if (pool.length < MIN_DOMAINS[kind])
      throw bad(
        [...at, "domains"],
        `${where}: ${kind} needs at least ${MIN_DOMAINS[kind]} domains, has ${pool.length}`,
      );
    for (let atMs = every; atMs + lasts <= durationMs; atMs += every) {
      faults.push({
        atMs,
        durationMs: lasts,
        source: `${where} ${kind}`,
        fault: generate(kind, pool as string[], random),
      });
      if (faults.length > MAX_SCHEDULED_FAULTS)
        throw bad(at, `more than ${MAX_SCHEDULED_FAULTS} faults: use a longer interval`);
    }
  }
  faults.sort((x, y) => x.atMs - y.atMs);
  return { seed, durationMs, faults };
}
