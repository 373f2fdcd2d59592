// SPDX-License-Identifier: Apache-2.0
/**
 * Reads a schedule file for `hmx chaos run`: YAML (`.yaml`, `.yml`) or JSON (anything else), the
 * same schema either way (schedule.ts). Every error names the file and, where the text tells, the
 * line: a syntax error where the parser stopped, a schema error (a bad field or value) where that
 * field is written, so a long soak schedule's mistake is found without counting entries.
 */
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, type Document } from "yaml";

import { UsageError } from "../commands/control.js";
import {
  ScheduleError,
  expandSchedule,
  type ExpandedSchedule,
  type SchedulePath,
} from "./schedule.js";

/** A parsed schedule file: its value, and where a field of it is written. */
export interface ScheduleFile {
  readonly file: string;
  readonly value: unknown;
  /** The 1-based line of the field at `path` (or of its nearest written parent). */
  lineOf(path: SchedulePath): number | undefined;
}

export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** The line of `path` in a parsed YAML document (JSON is YAML too, for this purpose). */
function locator(doc: Document, lines: LineCounter): ScheduleFile["lineOf"] {
  return (path) => {
    // A missing field ("for" left out) is reported at the entry that lacks it.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as
        { range?: [number, number, number] | null } | undefined;
      const offset = node?.range?.[0];
      if (offset !== undefined) return lines.linePos(offset).line;
    }
    return undefined;
  };
}

function parseYaml(file: string, text: string): ScheduleFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const [error] = doc.errors;
  if (error !== undefined) {
    const line = error.linePos?.[0].line;
    // The message's first line ("… at line 3, column 5:"); a source excerpt follows it.
    const message = (error.message.split("\n")[0] ?? "").replace(/:$/, "");
    throw new UsageError(
      `schedule ${file}${line === undefined ? "" : `:${line}`} is not valid YAML: ${message}`,
    );
  }
  return { file, value: doc.toJS() as unknown, lineOf: locator(doc, lines) };
}

function parseJson(file: string, text: string): ScheduleFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Node 20 says "at position N"; later versions say "(line L column C)".
    const message = (err as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    const line =
      /line (\d+)/.exec(message)?.[1] ??
      (position === undefined ? undefined : text.slice(0, Number(position)).split("\n").length);
    throw new UsageError(
      `schedule ${file}${line === undefined ? "" : `:${line}`} is not JSON: ${message}`,
    );
  }
  const lines = new LineCounter();
  return { file, value, lineOf: locator(parseDocument(text, { lineCounter: lines }), lines) };
}

/** Reads and parses a schedule file; an unreadable or malformed one is a UsageError naming it. */
export function readScheduleFile(file: string): ScheduleFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`schedule ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
  return isYamlFile(file) ? parseYaml(file, text) : parseJson(file, text);
}

/**
 * expandSchedule over a file's value; a schema error gets the file and the bad field's line in
 * front: `soak.yaml:12: schedule: generators[3].every "7": expected a duration …`.
 */
export function expandScheduleFile(
  source: ScheduleFile,
  domains: readonly string[],
  seedOverride: number | undefined,
  fallbackSeed: number,
): ExpandedSchedule {
  try {
    return expandSchedule(source.value, domains, seedOverride, fallbackSeed);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    const line = source.lineOf(err.path);
    throw new UsageError(`${source.file}${line === undefined ? "" : `:${line}`}: ${err.message}`);
  }
}
