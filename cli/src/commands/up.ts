// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx up`: the embedded default. Starts a hypervisor and a small fleet of guest processes on
 * this machine, shows live what they do, and stops everything cleanly on Ctrl-C (or after
 * `--duration`).
 */
import { ExitCode } from "../exit-codes.js";
import { parseCommand, usageError } from "../parse-command.js";
import { onShutdownSignal } from "../shutdown.js";
import { renderEvent, renderLine, statusRecord, type Snapshot } from "../up/dashboard.js";
import { failedChecks } from "../up/checks.js";
import { Fleet, type FleetEvent } from "../up/fleet.js";
import { DEFAULT_TERMINAL, renderScreen } from "../up/screen.js";

const UP_USAGE = `usage: hmx up [options]

Starts a hypervisor and eight guest agents as local processes (no Docker): a ping client against
an echo server, a numbered traffic stream into a sink that checks nothing is lost, duplicated or
reordered, and VirtIO over Argo: a back-end driver domain serving virtio-blk, -net and -console to
two front ends (which ping each other through its switch), and to one the policy forbids. Shows
domains, rings, messages/s, device traffic and errors live until Ctrl-C.

  --duration SECONDS   stop by itself after this long (default: run until Ctrl-C)
  --strict             run Argo without mac-permissive (wildcard rings refused, as Xen's default);
                       the echo and sink servers then cannot bind and the demo shows the -EPERM
  --refresh-ms N       screen refresh period (default 1000; 3000 for the plain status line)
  --json               print JSON lines (one status object per refresh with every guest's
                       numbers, one per event) instead of the screen or status line
  --no-virtio          run only the four Argo guests (no VirtIO back end and front ends)
  --restart-guests     restart a guest that exits (it resumes its domain from its state dir),
                       for chaos process faults ('hmx chaos kill sink'); without it a guest that
                       exits stays down and fails the run's checks
  --link-faults        relay each guest's link through the hypervisor's link-fault layer, for
                       chaos link faults ('hmx chaos link sink down', link-flap in a schedule)
  -h, --help           show this help

When stdout is not a terminal, it prints a short status line per refresh and a line per warning.
When it stops it checks the run: every guest still running, and nothing lost, duplicated,
reordered or corrupted (the sink's and the virtio front ends' own counters). It exits 1 if a
check failed, naming the guest and the counter, and 0 if all passed.
Everything the run writes (secrets, policy, disks, consoles) lives in one private directory under
$XDG_RUNTIME_DIR (or the temp dir), removed when it stops. While it runs, from the same checkout,
'hmx console vdemo1' shows a front end's virtio console, and 'hmx status', 'hmx domain',
'hmx history', 'hmx policy' reach it with no flags. Its history records from the start (the
last 65536 events are kept).`;

export async function runUpCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand("up", UP_USAGE, argv, {
    duration: { type: "string" },
    strict: { type: "boolean" },
    "refresh-ms": { type: "string" },
    // --virtio is the default now; still accepted so older scripts keep working.
    virtio: { type: "boolean" },
    "no-virtio": { type: "boolean" },
    json: { type: "boolean" },
    "restart-guests": { type: "boolean" },
    "link-faults": { type: "boolean" },
  });
  if ("exit" in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    return usageError(
      "up",
      `unexpected argument ${JSON.stringify(positionals[0])} (hmx up takes only options)`,
    );
  }
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0)) {
    return usageError(
      "up",
      `--duration ${JSON.stringify(values.duration)}: expected a positive number of seconds`,
    );
  }
  const json = values.json === true;
  const tty = process.stdout.isTTY && !json;
  const refreshMs =
    values["refresh-ms"] === undefined ? (tty ? 1000 : 3000) : Number(values["refresh-ms"]);
  if (!(Number.isInteger(refreshMs) && refreshMs >= 100)) {
    return usageError(
      "up",
      `--refresh-ms ${JSON.stringify(values["refresh-ms"])}: expected an integer >= 100`,
    );
  }
  const macPermissive = values.strict !== true;
  const mode = macPermissive
    ? "mode: mac-permissive (wildcard rings allowed)"
    : "mode: strict (wildcard rings refused with -EPERM)";

  if (values.virtio === true && values["no-virtio"] === true) {
    return usageError("up", "--virtio and --no-virtio contradict each other: pass one");
  }
  const virtio = values["no-virtio"] !== true;
  const fleet = new Fleet({
    macPermissive,
    domainMemoryBytes: 16 * 1024 * 1024,
    guestStatsIntervalMs: Math.min(refreshMs, 1000),
    virtio,
    restartGuests: values["restart-guests"] === true,
    linkFaults: values["link-faults"] === true,
  });
  const control = { stopRequested: false };
  let wake: () => void = () => undefined;
  const off = onShutdownSignal(() => {
    control.stopRequested = true;
    wake();
  });
  // Plain text or, with --json, one JSON object per line (msg says which kind).
  const say = (text: string, record: Record<string, unknown>) => {
    console.log(json ? JSON.stringify(record) : text);
  };
  say(`hmx up: starting a hypervisor and ${fleet.specs.length} guests, Argo ${mode}`, {
    msg: "starting",
    guests: fleet.specs.length,
    argo: macPermissive ? "mac-permissive" : "strict",
    runDir: fleet.runDir.path,
  });
  if (virtio)
    say(`hmx up: virtio consoles in ${fleet.consoleDir} (hmx console vdemo1)`, {
      msg: "consoles",
      consoleDir: fleet.consoleDir,
    });
  let lastShown: FleetEvent | undefined;
  const startedAt = Date.now();
  let exitCode: number = ExitCode.OK;
  try {
    await fleet.start();
    let before: Snapshot | undefined;
    const deadline = duration === undefined ? Infinity : startedAt + duration * 1000;
    while (!control.stopRequested && Date.now() < deadline) {
      if (fleet.hypervisor?.running !== true) {
        console.error("hmx up: the hypervisor exited and could not be restarted; stopping");
        exitCode = ExitCode.FAILURE;
        break;
      }
      const toolstack = fleet.toolstack;
      if (toolstack === undefined) break;
      // While the supervisor restarts a crashed hypervisor, show the last domains we saw.
      const domains = await toolstack.listDomains().catch((err: unknown) => {
        if (fleet.hypervisor?.running !== true || before === undefined) throw err;
        return before.domains;
      });
      const now: Snapshot = { at: Date.now(), domains };
      if (tty) {
        // Laid out for the terminal's size at each refresh, so a resize is followed.
        const size = {
          columns: process.stdout.columns || DEFAULT_TERMINAL.columns,
          rows: process.stdout.rows || DEFAULT_TERMINAL.rows,
        };
        process.stdout.write(
          `\x1b[H\x1b[2J${renderScreen(fleet, mode, now, before, startedAt, size)}\n`,
        );
      } else {
        // The events since the last line (the fleet keeps its last 200), then the status.
        const fresh = fleet.events.slice(
          lastShown === undefined ? 0 : fleet.events.indexOf(lastShown) + 1,
        );
        lastShown = fleet.events.at(-1);
        for (const e of fresh.slice(-10))
          say(renderEvent(e), {
            msg: "event",
            source: e.source,
            text: e.text,
            at: new Date(e.at).toISOString(),
          });
        say(renderLine(fleet, now, before, startedAt), statusRecord(fleet, now, before, startedAt));
      }
      before = now;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(refreshMs, Math.max(0, deadline - Date.now())));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // Judged before the guests are stopped: a guest that exited by itself is a failure.
    const failed = failedChecks(fleet.guests);
    if (failed.length > 0) exitCode = ExitCode.FAILURE;
    if (json) say("", { msg: "checks", passed: failed.length === 0, failed });
    else if (failed.length === 0)
      say(`hmx up: checks passed (${fleet.guests.length} guests)`, { msg: "checks" });
    if (!json)
      for (const f of failed)
        console.error(`hmx up: check failed: ${f.guest} (${f.check}): ${f.detail}`);
  } catch (err) {
    console.error(`hmx up: ${(err as Error).message}`);
    for (const e of fleet.events.slice(-10)) console.error(`  ${e.source}: ${e.text}`);
    exitCode = ExitCode.FAILURE;
  } finally {
    say("hmx up: stopping guests, then the hypervisor", { msg: "stopping" });
    await fleet.stop();
    off();
  }
  say("hmx up: stopped", { msg: "stopped", exitCode });
  return exitCode;
}
