// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx console <guest-domid-or-name>`: a guest's virtio-console output, as its back end
 * collected it, and input back to it (docs/virtio-argo.md "Console"). The virtio-backend
 * workload appends each front end's output to `<dir>/<domid>-<name>.log` and delivers whatever
 * is appended to `<dir>/<domid>-<name>.in`; this command reads the one and appends to the
 * other. No hypervisor call is needed, by design: the hypervisor never interprets guest bytes,
 * and the back end is a guest reachable only over Argo, so the console directory (a volume in
 * a container fleet) is the hand-off point. `--dir` defaults to `HMX_CONSOLE_DIR` or the
 * directory of the `hmx up` running from this checkout (its per-run directory, found through
 * the checkout's `.hmx/up.json`).
 */
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../exit-codes.js";
import { parseCommand, usageError } from "../parse-command.js";
import { defaultConsoleDir } from "../up/fleet.js";

const USAGE = `usage: hmx console <guest-domid-or-name> [options]
       hmx console --list [--dir DIR]

Shows a guest's virtio-console output as its back end collected it.

  --list           list the guests whose consoles the directory holds (domid, name, bytes)
  --dir DIR        the back end's console directory (env HMX_CONSOLE_DIR; default: that of the
                   'hmx up' running from this checkout)
  --follow, -f     keep printing new output until Ctrl-C
  --send TEXT      send TEXT (plus a newline) to the guest's console input
  --tail N         print only the last N lines
  -h, --help       show this help`;

/** The `<domid>-<name>` stems of the console logs in `dir`. */
function consoleStems(dir: string): string[] | { error: string } {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith(".log"))
      .map((n) => n.slice(0, -4))
      .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  } catch {
    return {
      error: `no console directory ${dir} (is a virtio back end running with --console-dir?)`,
    };
  }
}

/** `--list`: one line per console, `DOMID NAME BYTES`. */
export function listConsoles(dir: string): string | { error: string } {
  const stems = consoleStems(dir);
  if (!Array.isArray(stems)) return stems;
  if (stems.length === 0) return { error: `no consoles in ${dir} yet` };
  const rows = stems.map((stem) => {
    const dash = stem.indexOf("-");
    return `${stem.slice(0, dash).padEnd(6)} ${stem.slice(dash + 1).padEnd(32)} ${statSync(join(dir, `${stem}.log`)).size}`;
  });
  return [`${"DOMID".padEnd(6)} ${"NAME".padEnd(32)} BYTES`, ...rows, ""].join("\n");
}

/** The `<domid>-<name>` stem of the guest's files in `dir`, if exactly one matches. */
export function findConsole(dir: string, guest: string): string | { error: string } {
  const names = consoleStems(dir);
  if (!Array.isArray(names)) return names;
  const byDomid = /^\d+$/.test(guest);
  const hits = names.filter((stem) => {
    const dash = stem.indexOf("-");
    return byDomid ? stem.slice(0, dash) === guest : stem.slice(dash + 1) === guest;
  });
  if (hits.length === 1 && hits[0] !== undefined) return hits[0];
  if (hits.length === 0)
    return {
      error: `no console for ${JSON.stringify(guest)} in ${dir}${names.length > 0 ? ` (have: ${names.join(", ")})` : ""}`,
    };
  return { error: `${JSON.stringify(guest)} matches ${hits.join(", ")}: use the domid` };
}

function noConsoleDir(): number {
  console.error(
    "hmx console: no 'hmx up' is running from this checkout; start one, or pass --dir DIR (or set HMX_CONSOLE_DIR) for a container fleet's console volume",
  );
  return ExitCode.FAILURE;
}

export async function runConsoleCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand("console", USAGE, argv, {
    dir: { type: "string" },
    follow: { type: "boolean", short: "f" },
    send: { type: "string" },
    list: { type: "boolean" },
    tail: { type: "string" },
  });
  if ("exit" in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  if (values.list === true) {
    if (positionals.length > 0) {
      return usageError(
        "console",
        `--list takes no guest (got ${JSON.stringify(positionals.join(" "))})`,
      );
    }
    const dir = values.dir ?? defaultConsoleDir();
    if (dir === undefined) return noConsoleDir();
    const listing = listConsoles(dir);
    if (typeof listing !== "string") {
      console.error(`hmx console: ${listing.error}`);
      return ExitCode.FAILURE;
    }
    process.stdout.write(listing);
    return ExitCode.OK;
  }
  const [guest, ...extra] = positionals;
  if (guest === undefined || extra.length > 0) {
    return usageError(
      "console",
      `name exactly one guest, by domid or name (got ${positionals.length}); 'hmx console --list' lists them`,
    );
  }
  const tail = values.tail === undefined ? undefined : Number(values.tail);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) {
    return usageError(
      "console",
      `--tail ${JSON.stringify(values.tail)}: expected a non-negative integer`,
    );
  }
  const dir = values.dir ?? defaultConsoleDir();
  if (dir === undefined) return noConsoleDir();
  const stem = findConsole(dir, guest);
  if (typeof stem !== "string") {
    console.error(`hmx console: ${stem.error}`);
    return ExitCode.FAILURE;
  }
  if (values.send !== undefined) {
    appendFileSync(join(dir, `${stem}.in`), `${values.send}\n`);
    return ExitCode.OK;
  }
  const path = join(dir, `${stem}.log`);
  let text = readFileSync(path, "utf8");
  if (tail !== undefined)
    text = text
      .split("\n")
      .slice(-(tail + 1))
      .join("\n");
  process.stdout.write(text);
  if (values.follow !== true) return ExitCode.OK;
  // Follow: poll the file's size (bounded work per tick) until Ctrl-C.
  let offset = statSync(path).size;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      try {
        const size = statSync(path).size;
        if (size > offset) {
          const all = readFileSync(path);
          process.stdout.write(all.subarray(offset, size));
          offset = size;
        }
      } catch {
        clearInterval(timer);
        resolve();
      }
    }, 250);
    process.once("SIGINT", () => {
      clearInterval(timer);
      resolve();
    });
  });
  return ExitCode.OK;
}
