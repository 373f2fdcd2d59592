// SPDX-License-Identifier: Apache-2.0
/**
 * Which fleet `hmx chaos`'s process faults act on (`--target up|compose`), so that commands,
 * schedules and generators need not care: the `hmx up` running from this checkout, or a compose
 * fleet's containers through the Docker Engine API. Without `--target` it is found: `--project`
 * means compose; otherwise whichever of the two is running, and an error when both are (the
 * choice would be a guess) or, for an ad hoc fault, when neither is.
 *
 * The compose project is `--project`, else `COMPOSE_PROJECT_NAME`, else the one `hmx fleet
 * init` wrote into this checkout's `.env`, else Compose's own default: the checkout directory's
 * name, lower-cased, without the characters Compose drops.
 */
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";

import { UsageError } from "../commands/control.js";
import { REPO_ROOT, readEnvFile } from "../commands/fleet.js";
import { readUpPointer } from "../up/run-dir.js";
import { ComposeFleet, localDocker, type DockerApi } from "./docker-fleet.js";
import { composeProcessControl } from "./docker-process-faults.js";
import { UP_PROCESS_CONTROL, type ProcessControl } from "./process-faults.js";

export const PROCESS_TARGETS = ["up", "compose"] as const;

/** The compose project of `--project`, the environment, the checkout's .env, or its directory. */
export function composeProjectName(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  checkout: string = REPO_ROOT,
): string {
  if (flag !== undefined) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(flag))
      throw new UsageError(
        `--project ${JSON.stringify(flag)}: expected a Compose project name (lower-case letters, digits, - and _)`,
      );
    return flag;
  }
  const fromEnv = env["COMPOSE_PROJECT_NAME"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const envFile = join(checkout, ".env");
  const fromFile = existsSync(envFile) ? readEnvFile(envFile).get("COMPOSE_PROJECT_NAME") : "";
  if (fromFile !== undefined && fromFile !== "") return fromFile;
  return basename(resolve(checkout))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "")
    .replace(/^[-_]+/, "");
}

/** What choosing a target looks at (injected in tests). */
export interface TargetProbe {
  readonly upRunning: () => boolean;
  readonly docker: () => DockerApi;
}

const LOCAL_PROBE: TargetProbe = {
  upRunning: () => readUpPointer() !== undefined,
  docker: localDocker,
};

/**
 * The process control for `--target`/`--project`. With neither given and nothing running,
 * `required` decides: an ad hoc fault fails naming what was looked for; a schedule run gets
 * undefined (its faults then go to `hmx up`, failing only if the schedule has process faults).
 */
export async function chooseProcessControl(
  flags: { readonly target?: string | undefined; readonly project?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  required: boolean,
  probe: TargetProbe = LOCAL_PROBE,
): Promise<(ProcessControl & { readonly fleet?: ComposeFleet }) | undefined> {
  const { target } = flags;
  if (target !== undefined && !PROCESS_TARGETS.includes(target as "up"))
    throw new UsageError(`--target ${JSON.stringify(target)}: expected up or compose`);
  if (target === "up") {
    if (flags.project !== undefined)
      throw new UsageError("--project names a compose project: it goes with --target compose");
    return UP_PROCESS_CONTROL;
  }
  const fleet = new ComposeFleet(composeProjectName(flags.project, env), probe.docker(), env);
  const compose = { ...composeProcessControl(fleet), fleet };
  if (target === "compose" || flags.project !== undefined) return compose;
  let composeUp = false;
  let dockerError = "";
  try {
    composeUp = (await fleet.containers()).some((c) => c.running);
  } catch (err) {
    dockerError = `; ${(err as Error).message}`;
  }
  const upRunning = probe.upRunning();
  if (upRunning && composeUp)
    throw new UsageError(
      `both this checkout's hmx up and compose project ${JSON.stringify(fleet.project)} are running: say --target up or --target compose`,
    );
  if (upRunning) return UP_PROCESS_CONTROL;
  if (composeUp) return compose;
  if (!required) return undefined;
  throw new Error(
    `no fleet to act on: no hmx up runs from this checkout and compose project ${JSON.stringify(fleet.project)} has no running container${dockerError}`,
  );
}
