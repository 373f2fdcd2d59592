// SPDX-License-Identifier: Apache-2.0
/**
 * The hypervisor of `hmx up` is restarted when it dies (issue 13: guests outlive the
 * hypervisor). A restart must come back where the guests look for it, so the listeners the
 * first run bound on port 0 are pinned to the addresses its ready line reported; and it must
 * come back with the guests' domains, so `hmx up` gives it a state directory in the run
 * directory (`--state-dir`, docs/state.md) whenever this build's hypervisor has one.
 *
 * Restarts follow a doubling delay (a crash loop does not spin the CPU), back to the first step
 * once a run stayed up for a while. A hypervisor that cannot even start again (it exits before
 * its ready line three times running: a damaged state dir, a port taken) is given up on, with
 * the reason, rather than retried forever.
 */
import { spawnSync } from "node:child_process";
import { HMX_BIN, SupervisedChild, type LogRecord } from "./child-process.js";

/** When to restart. */
export interface RestartPolicy {
  /** The first delay after a crash. */
  readonly initialDelayMs: number;
  /** The delay doubles per crash up to this. */
  readonly maxDelayMs: number;
  /** A run that lasted this long resets the delay to `initialDelayMs`. */
  readonly healthyAfterMs: number;
  /** Restarts in a row that never reached their ready line before giving up. */
  readonly maxFailedStarts: number;
  /** Restarts in all before giving up (default: no limit; 0: never restart). */
  readonly maxRestarts?: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 200,
  maxDelayMs: 5000,
  healthyAfterMs: 30_000,
  maxFailedStarts: 3,
};

/** The listener flags whose port 0 a restart must replace, and the ready-line field of each. */
const LISTENERS: Readonly<Record<string, string>> = {
  "--listen": "listen",
  "--control-listen": "controlListen",
  "--http-listen": "httpListen",
};

/**
 * `args` with every listener flag set to the address the ready line reported for it, so that a
 * restarted hypervisor binds the same ports (guests, the toolstack client and the pointer file
 * keep working). Handles both `--flag value` and `--flag=value`.
 */
export function pinListenAddresses(args: readonly string[], ready: LogRecord): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const field = LISTENERS[flag];
    const address = field === undefined ? undefined : ready[field];
    if (typeof address !== "string" || address === "") {
      out.push(arg);
    } else if (eq >= 0) {
      out.push(`${flag}=${address}`);
    } else {
      out.push(flag, address);
      i++; // the value we replaced
    }
  }
  return out;
}

/** The delay before each restart: doubling, reset by a run that lasted `healthyAfterMs`. */
export class RestartSchedule {
  #step = 0;
  constructor(readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  /** The delay before the next restart of a run that lasted `ranMs`. */
  next(ranMs: number): number {
    if (ranMs >= this.policy.healthyAfterMs) this.#step = 0;
    const delay = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** this.#step);
    this.#step = Math.min(this.#step + 1, 30);
    return delay;
  }
}

/** Whether this build's `hmx hypervisor` accepts `flag` (asked once through its --help). */
export function hypervisorAccepts(flag: string): boolean {
  const help = spawnSync(process.execPath, [HMX_BIN, "hypervisor", "--help"], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return new RegExp(`(^|\\s)${flag}(\\s|=|$)`, "m").test(help.stdout);
}

/** What the supervisor tells its owner. */
export interface SupervisorEvents {
  /** Every log record of every run. */
  readonly onRecord: (record: LogRecord) => void;
  /** Every non-JSON output line of every run. */
  readonly onText: (line: string) => void;
  /** A run ended by itself; the next one starts after `delayMs` (undefined: given up). */
  readonly onExit: (exit: {
    code: number | null;
    signal: NodeJS.Signals | null;
    delayMs: number | undefined;
    reason: string;
  }) => void;
}

/**
 * A child restarted whenever it exits without being asked to (see the module comment). Start-up
 * is the caller's: `ready` settles with the first run's ready record; restarts begin after it.
 */
export class RestartingChild {
  #current: SupervisedChild;
  #stopping = false;
  #gaveUp = false;
  #timer: NodeJS.Timeout | undefined;
  #args: readonly string[];
  #failedStarts = 0;
  readonly #schedule: RestartSchedule;
  /** Restarts so far. */
  restarts = 0;

  constructor(
    readonly name: string,
    args: readonly string[],
    private readonly env: Readonly<Record<string, string>>,
    private readonly readyMsg: string,
    private readonly events: SupervisorEvents,
    policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {
    this.#args = args;
    this.#schedule = new RestartSchedule(policy);
    this.#current = this.#spawn(true);
  }

  /** The run in progress (or the last one, while a restart is pending). */
  get current(): SupervisedChild {
    return this.#current;
  }

  /** Supervised and not given up: running, or about to be restarted. */
  get running(): boolean {
    return !this.#gaveUp && !this.#stopping;
  }

  /** Stops supervising and the current run (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs?: number): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#current.stop(graceMs);
  }

  #spawn(first: boolean): SupervisedChild {
    const startedAt = Date.now();
    let ready = false;
    const child = new SupervisedChild(
      this.name,
      this.#args,
      this.env,
      (record) => {
        if (record.msg === this.readyMsg && !ready) {
          ready = true;
          this.#failedStarts = 0;
          // Later runs must bind where this one did: guests and clients know these addresses.
          if (first) this.#args = pinListenAddresses(this.#args, record);
        }
        this.events.onRecord(record);
      },
      this.events.onText,
    );
    void child.exited.then(({ code, signal }) => {
      if (this.#stopping || child !== this.#current) return;
      // A first run that never got ready is the caller's start-up failure, not a crash.
      if (first && !ready) {
        this.#gaveUp = true;
        return;
      }
      if (!ready) this.#failedStarts++;
      const reason = signal === null ? `exit code ${code}` : `signal ${signal}`;
      if (
        this.#failedStarts >= this.#schedule.policy.maxFailedStarts ||
        this.restarts >= (this.#schedule.policy.maxRestarts ?? Infinity)
      ) {
        this.#gaveUp = true;
        this.events.onExit({ code, signal, delayMs: undefined, reason });
        return;
      }
      const delayMs = this.#schedule.next(Date.now() - startedAt);
      this.events.onExit({ code, signal, delayMs, reason });
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#stopping) return;
        this.restarts++;
        this.#current = this.#spawn(false);
      }, delayMs);
    });
    return child;
  }
}
