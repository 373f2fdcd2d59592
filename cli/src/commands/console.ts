// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx console <guest-domid-or-name>`: a guest's virtio-console output, as its back end
 * collected it, and input back to it (docs/virtio-argo.md "Console"). The virtio-backend
 * workload appends each front end's output to `<dir>/<domid>-<name>.log` and delivers whatever
 * is appended to `<dir>/<domid>-<name>.in`; this command reads the one and appends to the
 * other. No hypervisor call is needed, by design: the hypervisor never interprets guest bytes,
 * and the back end is a guest reachable only over Argo, so the console directory (a volume in
 * a container fleet) is the hand-off point. `--dir` defaults to `HMX_CONSOLE_DIR` or the
 * directory `hmx up --virtio` uses.
 */
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ExitCode } from "../exit-codes.js";
import { defaultConsoleDir } from "../up/fleet.js";

const USAGE = `usage: hmx console <guest-domid-or-name> [options]

Shows a guest's virtio-console output as its back end collected it.

  --dir DIR        the back end's console directory (env HMX_CONSOLE_DIR; default: the one 'hmx up --virtio' uses)
  --follow, -f     keep printing new output until Ctrl-C
  --send TEXT      send TEXT (plus a newline) to the guest's console input
  --tail N         print only the last N lines
  -h, --help       show this help`;

/** The `<domid>-<name>` stem of the guest's files in `dir`, if exactly one matches. */
export function findConsole(dir: string, guest: string): string | { error: string } {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".log"))
      .map((n) => n.slice(0, -4));
  } catch {
    return {
      error: `no console directory ${dir} (is a virtio back end running with --console-dir?)`,
    };
  }
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

export async function runConsoleCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        dir: { type: "string" },
        follow: { type: "boolean", short: "f" },
        send: { type: "string" },
        tail: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    console.error(`hmx console: ${(err as Error).message}\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(USAGE);
    return ExitCode.OK;
  }
  const [guest, ...extra] = positionals;
  if (guest === undefined || extra.length > 0) {
    console.error(`hmx console: name exactly one guest (domid or name)\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const tail = values.tail === undefined ? undefined : Number(values.tail);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) {
    console.error(
      `hmx console: --tail ${JSON.stringify(values.tail)}: expected a non-negative integer`,
    );
    return ExitCode.USAGE;
  }
  const dir = values.dir ?? defaultConsoleDir();
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
