// SPDX-License-Identifier: Apache-2.0
/**
 * One history event (docs/harness.md "Events") as one readable line for `hmx history`:
 * `#SEQ HH:MM:SS.uuuuuu KIND …` with each kind's few telling fields. `--json` prints the
 * events as the hypervisor sent them instead.
 */
import type { HistoryEvent } from "@hmx/client";

type Fields = Readonly<Record<string, unknown>>;

function str(v: unknown): string {
  if (v === undefined || v === null) return "-";
  if (typeof v === "string") return v;
  return typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
}

function addr(v: unknown): string {
  const a = v as { domid?: unknown; aport?: unknown } | undefined;
  return `${str(a?.domid)}:${str(a?.aport)}`;
}

/** A hypercall's `value` in a few words (the whole object for ops with no short form). */
function hypercallValue(f: string, value: Fields | null): string {
  if (value === null) return "";
  switch (f) {
    case "sendv":
      return `${addr(value["src"])} -> ${addr(value["dst"])} len ${str(value["len"])}${value["digest"] === undefined ? "" : ` digest ${str(value["digest"])}`}`;
    case "registerRing":
      return `aport ${str(value["aport"])} partner ${str(value["partner"])} len ${str(value["len"])}`;
    case "unregisterRing":
      return `aport ${str(value["aport"])} partner ${str(value["partner"])}`;
    case "readMemory":
    case "writeMemory":
      return `gpa ${str(value["gpa"])} len ${str(value["len"])}`;
    default:
      return JSON.stringify(value);
  }
}

function body(e: HistoryEvent): string {
  switch (e.kind) {
    case "hypercall": {
      const f = str(e["f"]);
      const result =
        e["type"] === "ok" ? `ok ${str(e["ret"])}` : `fail ${str(e["error"])} (${str(e["ret"])})`;
      const value = hypercallValue(f, (e["value"] ?? null) as Fields | null);
      return `d${str(e["process"])} ${f} ${result}${value === "" ? "" : ` ${value}`}`;
    }
    case "virq":
      return `d${str(e["domid"])} virq ${str(e["virq"])}`;
    case "mac":
      return `${str(e["decision"])} ${str(e["module"])} ${str(e["permission"])} d${str(e["sdomid"])} ${str(e["scontext"])} -> d${str(e["tdomid"])} ${str(e["tcontext"])} (${str(e["rule"])})`;
    case "link":
      return `d${str(e["domid"])} link ${str(e["state"])}`;
    case "session":
      return `d${str(e["domid"])} ${str(e["stream"])} ${str(e["state"])}`;
    case "domain":
      return `d${str(e["domid"])} ${str(e["event"])} ${str(e["name"])} (${str(e["label"])})`;
    case "fault": {
      const spec = e["spec"] as Fields | undefined;
      return `${str(e["type"])} ${str(e["name"])}${spec?.["type"] === undefined ? "" : ` ${str(spec["type"])}`}`;
    }
    case "gap":
      return `${str(e["dropped"])} events lost (${str(e["from"])}..${str(e["to"])}): ${str(e["reason"])}`;
  }
}

/** `#SEQ HH:MM:SS.uuuuuu KIND …` (the time to the microsecond, UTC). */
export function formatHistoryEvent(e: HistoryEvent): string {
  const time = typeof e.time === "string" ? e.time.slice(11, 26) : "-";
  return `#${e.seq} ${time} ${e.kind.padEnd(9)} ${body(e)}`;
}
