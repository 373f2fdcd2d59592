// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx chaos` against the compose fleet (docker-compose.yml with three guests), through the
 * Docker Engine API: an ad hoc kill of a guest container is a crash the fault heals by starting
 * it again, and `hmx chaos run deploy/chaos/compose-short.json --target compose` (the CI form of
 * the compose soak: 16 faults, three of them container kills) applies and heals every fault with
 * 0 lost, duplicated or reordered messages in the guests' own figures, and MAC respected in the
 * history the compose hypervisor publishes on loopback (admin token required). The full soak,
 * deploy/chaos/compose-soak.json with four guests, is the same test under
 * HMX_CHAOS_COMPOSE=soak (`npm run soak:compose`). Skipped, with the reason, without Docker or
 * Compose.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import type { StartedDockerComposeEnvironment } from "testcontainers";
import { REPO_ROOT, composeAvailability, composeUp } from "./docker.js";

const { flavour, skip } = composeAvailability();
const HMX = join(REPO_ROOT, "cli/bin/hmx.js");
/** The CI form, or the full soak (`npm run soak:compose`). */
const SOAK = process.env["HMX_CHAOS_COMPOSE"] === "soak";
const FORM = SOAK
  ? { schedule: "deploy/chaos/compose-soak.json", guests: 4, kills: 20, runMs: 900_000 }
  : { schedule: "deploy/chaos/compose-short.json", guests: 3, kills: 2, runMs: 300_000 };

/** Runs `hmx ARGS` with the fleet's admin token; its exit code and output, never a throw. */
async function hmx(
  args: readonly string[],
  adminToken: string,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [HMX, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, HMX_ADMIN_TOKEN: adminToken, HMX_CONTROL: "" },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === "number" ? e.code : -1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? String(err),
    };
  }
}

/** The Engine's own record of one kind of event on the project's containers since `since` (s). */
function dockerEvents(project: string, since: number, event: string): string[] {
  const r = spawnSync(
    "docker",
    [
      "events",
      ...["--since", String(since), "--until", String(Math.ceil(Date.now() / 1000))],
      ...["--filter", `label=com.docker.compose.project=${project}`],
      ...["--filter", `event=${event}`, "--format", "{{.Actor.Attributes.signal}}"],
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  return r.stdout.split("\n").filter((l) => l !== "");
}

interface Results {
  passed: boolean;
  faults: number;
  checks: { name: string; passed: boolean; message: string; figures: Record<string, number> }[];
}

describe(
  "hmx chaos against the compose fleet",
  { skip: skip ?? false, timeout: FORM.runMs + 600_000 },
  () => {
    let env: StartedDockerComposeEnvironment | undefined;
    const project = `hmxtestchaos${randomBytes(3).toString("hex")}`;
    const out = mkdtempSync(join(tmpdir(), "hmx-chaos-compose-"));
    after(async () => {
      await env?.down({ removeVolumes: true, timeout: 10_000 });
      await promisify(execFile)("docker", ["rmi", "-f", `${project}:local`]).catch(() => undefined);
      rmSync(out, { recursive: true, force: true });
    });

    test("process faults act on compose containers by name, and a schedule with container kills loses nothing", async () => {
      const up = await composeUp(project, flavour ?? "v2", {
        upOptions: ["--scale", `guest=${FORM.guests}`],
      });
      env = up.env;
      const target = ["--target", "compose", "--project", project];
      // The first guest's container name as this Compose spells it (v1: P_guest_1).
      const guestOne = flavour === "v1" ? up.name("guest") : `${project}-${up.name("guest")}`;

      // An unknown container is refused naming it and the project, and nothing is done.
      const unknown = await hmx(["chaos", "kill", "guest-9", ...target], up.adminToken, 60_000);
      assert.equal(unknown.code, 1, unknown.stderr);
      assert.match(
        unknown.stderr,
        new RegExp(`no container "guest-9" in compose project "${project}"`),
      );
      assert.match(unknown.stderr, /containers: .*guest-1, guest-2, guest-3/);

      // An ad hoc kill: SIGKILL through the Engine, then started again (Docker skips the restart
      // policy of a container it killed itself).
      const killed = await hmx(["chaos", "kill", "guest-1", ...target], up.adminToken, 120_000);
      assert.equal(killed.code, 0, killed.stderr);
      assert.match(killed.stdout, /guest-1 \(container .*\) killed \(SIGKILL\), started again/);
      const state = spawnSync("docker", ["inspect", "-f", "{{.State.Running}}", guestOne], {
        encoding: "utf8",
      });
      assert.equal(state.stdout.trim(), "true", "the killed guest runs again");

      const since = Math.floor(Date.now() / 1000);
      const run = await hmx(
        [
          "chaos",
          "run",
          join(REPO_ROOT, FORM.schedule),
          ...target,
          "--out",
          out,
          "--liveness",
          "10s",
        ],
        up.adminToken,
        FORM.runMs,
      );
      const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
      const summary = readFileSync(join(out, "summary.txt"), "utf8");
      console.log(summary);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.equal(results.passed, true);
      const check = (name: string) => {
        const c = results.checks.find((x) => x.name === name);
        assert.ok(c, `check ${name} ran: ${summary}`);
        assert.equal(c.passed, true, `${name}: ${c.message}`);
        return c.figures;
      };
      assert.equal(check("faults applied")["refused"], 0);
      assert.equal(check("every fault healed")["notEnded"], 0);
      check("liveness after every heal");
      // Every guest container's own checker reported, with messages and 0 of each violation.
      const loss = check("no loss");
      assert.ok((loss["receivers"] ?? 0) >= FORM.guests, `receivers: ${loss["receivers"]}`);
      assert.ok((loss["received"] ?? 0) > 0);
      check("no duplication");
      check("per-pair FIFO");
      // MAC checked, not skipped: the run found the hypervisor's history where docker-compose.yml
      // publishes it (loopback, a port Docker picked) and followed it with the admin token.
      const mac = check("MAC respected throughout");
      assert.ok((mac["deliveries"] ?? 0) > 0, `the history showed deliveries: ${summary}`);
      assert.equal(mac["gaps"], 0);
      assert.doesNotMatch(run.stdout + run.stderr, /no MAC check/);
      // The container kills and pauses happened, as Docker itself saw them.
      const kills = dockerEvents(project, since, "kill").filter((signal) => signal === "9");
      const pauses = dockerEvents(project, since, "pause");
      console.log(`Docker saw ${kills.length} SIGKILLs and ${pauses.length} pauses`);
      assert.ok(kills.length >= FORM.kills, `container kills: ${kills.length}`);
      assert.ok(pauses.length >= 1, `container pauses: ${pauses.length}`);
    });
  },
);
