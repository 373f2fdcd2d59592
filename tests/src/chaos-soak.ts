// SPDX-License-Identifier: Apache-2.0
/**
 * The chaos soak (issue 11, "How it is checked"): `hmx up --no-virtio --restart-guests
 * --link-faults`, then `hmx chaos run deploy/chaos/soak.yaml` against it as a user would run it
 * (a child process finding `hmx up` through its pointer file), then hmx up stopped with its own
 * checks. The verdict is both exit codes: the schedule's checks (faults applied and healed,
 * liveness after every heal, no loss, no duplication, per-pair FIFO, MAC respected) and hmx up's
 * (every guest running, the sink's counters clean). `npm run soak` runs the whole ten minutes;
 * the suite runs the same schedule cut short (chaos-soak.test.ts).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HMX_BIN } from "@hmx/cli/supervisor";
import { parse, stringify } from "yaml";
import { HmxUpRun, stat } from "./hmx-up-run.js";

export const SOAK_SCHEDULE = fileURLToPath(
  new URL("../../deploy/chaos/soak.yaml", import.meta.url),
);

/** The fleet the soak runs against: the four Argo guests, restarted when killed, links faultable. */
export const SOAK_UP_ARGS = ["--no-virtio", "--restart-guests", "--link-faults"] as const;

export interface SoakOptions {
  readonly schedule: string;
  /** Run the schedule for this long instead of its own duration ("45s"): the CI form. */
  readonly duration?: string;
  readonly seed?: number;
  readonly outDir: string;
  readonly log: (line: string) => void;
}

/** One check of results.json. */
export interface SoakCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
  readonly figures: Readonly<Record<string, number>>;
}

export interface SoakResult {
  readonly passed: boolean;
  readonly chaosExit: number | null;
  readonly upExit: number | null;
  readonly seed: number;
  readonly faults: number;
  readonly checks: readonly SoakCheck[];
  /** The sink's own counters at hmx up's last status. */
  readonly sink: Readonly<Record<"received" | "lost" | "duplicates" | "reordered", number>>;
  readonly elapsedMs: number;
}

/** The schedule file to run: the given one, or a copy with its duration cut to `duration`. */
function scheduleFile(options: SoakOptions, scratch: string): string {
  if (options.duration === undefined) return options.schedule;
  const schedule = parse(readFileSync(options.schedule, "utf8")) as Record<string, unknown>;
  const file = join(scratch, "soak-short.yaml");
  writeFileSync(file, stringify({ ...schedule, duration: options.duration }));
  return file;
}

/** Runs `hmx chaos run FILE` against `run`, each output line logged; resolves its exit code. */
function chaosRun(run: HmxUpRun, args: readonly string[], options: SoakOptions) {
  const child = spawn(process.execPath, [HMX_BIN, "chaos", "run", ...args], {
    env: run.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr])
    stream.on("data", (d: Buffer) => {
      for (const line of d.toString().split("\n")) if (line !== "") options.log(`chaos: ${line}`);
    });
  return new Promise<number | null>((resolve) => child.on("exit", resolve));
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const scratch = mkdtempSync(join(tmpdir(), "hmx-soak-"));
  const started = Date.now();
  const run = new HmxUpRun([...SOAK_UP_ARGS, "--refresh-ms", "1000"]);
  let chaosExit: number | null = null;
  let upExit: number | null = null;
  try {
    options.log(`hmx up ${SOAK_UP_ARGS.join(" ")}: waiting for the sink's traffic`);
    await run.waitFor((s) => stat(s, "sink", "received") > 500, 120_000, "sink traffic");
    const file = scheduleFile(options, scratch);
    chaosExit = await chaosRun(
      run,
      [
        file,
        "--out",
        options.outDir,
        ...(options.seed === undefined ? [] : ["--seed", String(options.seed)]),
      ],
      options,
    );
  } finally {
    upExit = await run.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  if (upExit !== 0)
    options.log(`hmx up's checks failed (exit ${upExit}):\n${run.output.slice(-3000)}`);
  const results = JSON.parse(readFileSync(join(options.outDir, "results.json"), "utf8")) as {
    seed: number;
    faults: number;
    checks: SoakCheck[];
  };
  const last = run.status;
  const sink = {
    received: last === undefined ? 0 : stat(last, "sink", "received"),
    lost: last === undefined ? 0 : stat(last, "sink", "lost"),
    duplicates: last === undefined ? 0 : stat(last, "sink", "duplicates"),
    reordered: last === undefined ? 0 : stat(last, "sink", "reordered"),
  };
  return {
    passed: chaosExit === 0 && upExit === 0,
    chaosExit,
    upExit,
    seed: results.seed,
    faults: results.faults,
    checks: results.checks,
    sink,
    elapsedMs: Date.now() - started,
  };
}

/** The figure in one line, as the README quotes it. */
export function soakFigure(result: SoakResult): string {
  const figure = (check: string, key: string) =>
    result.checks.find((c) => c.name === check)?.figures[key] ?? NaN;
  return [
    `${result.passed ? "PASSED" : "FAILED"}: ${result.faults} faults (seed ${result.seed})`,
    `${figure("every fault healed", "applied")} applied and healed`,
    `${figure("no loss", "received")} messages received by the sink`,
    `${figure("no loss", "lost")} lost / ${figure("no duplication", "duplicates")} duplicated / ${figure("per-pair FIFO", "reordered")} reordered`,
    `liveness after ${figure("liveness after every heal", "heals")} heals, slowest ${figure("liveness after every heal", "maxRecoveryMs")} ms`,
    `MAC: ${figure("MAC respected throughout", "deliveries")} deliveries, ${figure("MAC respected throughout", "violations")} on denied pairs`,
    `${Math.round(result.elapsedMs / 1000)} s in all`,
  ].join("; ");
}
