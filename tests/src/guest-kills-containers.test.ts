// SPDX-License-Identifier: Apache-2.0
/**
 * Crash-consistent guests in the container fleet (issue 11 item 1, docs/state-guests.md "Killed
 * at any instant"): the real docker-compose.yml under traffic, and the `guest` container, whose
 * `fleet` workload checks the stream the `isolated` guest sends it, `docker kill`ed at seeded
 * random points and started again (Docker does not restart a container it was told to kill).
 * Each time it resumes its domain and its ring from its state, and its checker from its guest
 * memory: the stream carries on with 0 gaps, lost, duplicated or reordered, in the same domains.
 *
 * One fleet serves every kill, and kills follow each other as soon as the stream has moved again,
 * so the count is bounded by container starts, not by fleets. Most kills land at a random instant
 * once the stream flows again; every fifth lands at a random instant of the container's start
 * (enrolment, ring registration), before it has shown any progress.
 *
 * HMX_GUEST_KILLS sets the kills (3 in the suite: each is a container start;
 * `npm run test:guest-kills:containers -w @hmx/tests` runs 50); HMX_TEST_SEED replays the kill
 * points. Skipped, with the reason, without Docker or Compose.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { ToolstackClient } from "@hmx/client";
import { seededRandom } from "@hmx/hypervisor";
import { propertySeed } from "@hmx/virtio/test-utils";
import type { StartedDockerComposeEnvironment } from "testcontainers";
import { composeAvailability, composeUp, eventually, jsonRecords } from "./containers/docker.js";
import { num } from "@hmx/testkit";
import { sleep, stateDirTodo } from "./fleet-restart-harness.js";

const { flavour, skip } = composeAvailability();
/** The most kills one run makes (each is a container start: ~5 s). */
const MAX_KILLS = 500;

/** HMX_GUEST_KILLS, or `fallback`; anything but a whole number 1..MAX_KILLS is refused. */
function killCount(fallback: number): number {
  const raw = process.env["HMX_GUEST_KILLS"];
  if (raw === undefined || raw === "") return fallback;
  const kills = Number(raw);
  if (!Number.isInteger(kills) || kills < 1 || kills > MAX_KILLS)
    throw new Error(
      `HMX_GUEST_KILLS=${JSON.stringify(raw)}: expected a whole number of kills from 1 to ${MAX_KILLS}`,
    );
  return kills;
}

const KILLS = killCount(3);
/** Every this many kills, one lands during the container's start rather than in the stream. */
const START_KILL_EVERY = 5;

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", timeout: 120_000 }).trim();
}

/** A container's whole log, across its restarts (`docker logs` keeps every run's output). */
function logsOf(id: string): string {
  const r = spawnSync("docker", ["logs", id], { encoding: "utf8", timeout: 60_000 });
  return `${r.stdout}\n${r.stderr}`;
}

describe(
  "a fleet guest container killed with docker kill",
  {
    skip: skip ?? false,
    todo: skip === undefined ? stateDirTodo() : false,
    timeout: 600_000 + KILLS * 60_000,
  },
  () => {
    let env: StartedDockerComposeEnvironment | undefined;
    const project = `hmxtestguestkill${randomBytes(3).toString("hex")}`;
    after(async () => {
      await env?.down({ removeVolumes: true, timeout: 10_000 });
      docker("rmi", "-f", `${project}:local`);
    });

    test(`docker kill of a fleet guest at ${KILLS} seeded random points, then docker start: its checker resumes with 0 gaps, lost, duplicated or reordered`, async () => {
      const seed = propertySeed(`guest kills (containers, ${KILLS})`);
      const rand = seededRandom(seed);
      const up = await composeUp(project, flavour ?? "v2");
      env = up.env;
      const guest = up.env.getContainer(up.name("guest")).getId();
      const latest = () => jsonRecords(logsOf(guest), "guest stats").at(-1);
      const toolstack = new ToolstackClient(`127.0.0.1:${up.controlPort}`, up.adminToken);
      /** Waits until the guest has counted `more` messages past `received`; its last stats then. */
      const streamPast = (received: number, what: string) =>
        eventually(what, 120_000, () => {
          const r = latest();
          return num(r, "received") > received + 20 ? r : undefined;
        });
      const violations = (s: Record<string, unknown> | undefined) =>
        ["gaps", "lost", "duplicates", "reordered"].map((key) => num(s, key));
      try {
        await streamPast(0, "the guest's stream");
        const domains = (await toolstack.listDomains()).map((d) => `${d.domid}:${d.label}`).sort();
        const began = Date.now();
        let startKills = 0;
        for (let k = 0; k < KILLS; k++) {
          const received = num(latest(), "received");
          // A start kill lands within the container's first second and a half, before progress.
          const duringStart = k % START_KILL_EVERY === START_KILL_EVERY - 1;
          await sleep(Math.floor(rand() * (duringStart ? 1500 : 2000)));
          docker("kill", guest);
          docker("start", guest);
          if (duringStart) {
            startKills++;
            continue;
          }
          // The next kill waits for the stream to move again after this one.
          const s = await streamPast(received, `the stream carrying on after kill ${k + 1}`);
          assert.deepEqual(
            violations(s),
            [0, 0, 0, 0],
            `nothing lost, duplicated or reordered after kill ${k + 1}: ${JSON.stringify(s)}`,
          );
        }
        const before = num(latest(), "received");
        const last = await streamPast(before, "the stream carrying on after the last kill");
        assert.deepEqual(
          violations(last),
          [0, 0, 0, 0],
          `nothing lost, duplicated or reordered across ${KILLS} kills: ${JSON.stringify(last)}`,
        );
        assert.deepEqual(
          (await toolstack.listDomains()).map((d) => `${d.domid}:${d.label}`).sort(),
          domains,
          "the same domains after every kill",
        );
        const minutes = ((Date.now() - began) / 60_000).toFixed(1);
        console.log(
          `container guest kills: ${KILLS} docker kills (${startKills} during the container's start) in ${minutes} min, seed ${seed}; the guest counted ${num(last, "received")} messages, 0 gaps/lost/duplicates/reordered`,
        );
      } finally {
        toolstack.close();
      }
    });
  },
);
