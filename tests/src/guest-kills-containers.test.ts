// SPDX-License-Identifier: Apache-2.0
/**
 * Crash-consistent guests in the container fleet (issue 11 item 1, docs/state-guests.md "Killed
 * at any instant"): the real docker-compose.yml under traffic, and the `guest` container, whose
 * `fleet` workload checks the stream the `isolated` guest sends it, `docker kill`ed at seeded
 * random points and started again (Docker does not restart a container it was told to kill).
 * Each time it resumes its domain and its ring from its state, and its checker from its guest
 * memory: the stream carries on with 0 gaps, lost, duplicated or reordered, in the same domains.
 * HMX_GUEST_KILLS sets the kills (3 here by default: each is a container start). Skipped, with the
 * reason, without Docker or Compose.
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
const KILLS = Math.min(Number(process.env["HMX_GUEST_KILLS"] ?? 3), 10);

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
  { skip: skip ?? false, todo: skip === undefined ? stateDirTodo() : false, timeout: 900_000 },
  () => {
    let env: StartedDockerComposeEnvironment | undefined;
    const project = `hmxtestguestkill${randomBytes(3).toString("hex")}`;
    after(async () => {
      await env?.down({ removeVolumes: true, timeout: 10_000 });
      docker("rmi", "-f", `${project}:local`);
    });

    test(`docker kill of a fleet guest at ${KILLS} seeded random points, then docker start: its checker resumes with 0 gaps, lost, duplicated or reordered`, async () => {
      const rand = seededRandom(propertySeed(`guest kills (containers, ${KILLS})`));
      const up = await composeUp(project, flavour ?? "v2");
      env = up.env;
      const guest = up.env.getContainer(up.name("guest")).getId();
      const latest = () => jsonRecords(logsOf(guest), "guest stats").at(-1);
      const toolstack = new ToolstackClient(`127.0.0.1:${up.controlPort}`, up.adminToken);
      try {
        await eventually("the guest's stream", 120_000, () =>
          num(latest(), "received") > 20 ? true : undefined,
        );
        const domains = (await toolstack.listDomains()).map((d) => `${d.domid}:${d.label}`).sort();
        for (let k = 0; k < KILLS; k++) {
          const received = num(latest(), "received");
          await sleep(Math.floor(rand() * 2000));
          docker("kill", guest);
          docker("start", guest);
          const s = await eventually(`the stream carrying on after kill ${k + 1}`, 120_000, () => {
            const r = latest();
            return num(r, "received") > received + 20 ? r : undefined;
          });
          assert.deepEqual(
            ["gaps", "lost", "duplicates", "reordered"].map((key) => num(s, key)),
            [0, 0, 0, 0],
            `nothing lost, duplicated or reordered after kill ${k + 1}: ${JSON.stringify(s)}`,
          );
          assert.ok(
            num(s, "received") >= received,
            `the count carried on across kill ${k + 1} (${received} before, ${num(s, "received")} after)`,
          );
        }
        assert.deepEqual(
          (await toolstack.listDomains()).map((d) => `${d.domid}:${d.label}`).sort(),
          domains,
          "the same domains after every kill",
        );
        console.log(
          `container guest kills: ${KILLS} kills, the guest counted ${num(latest(), "received")} messages, 0 gaps/lost/duplicates/reordered`,
        );
      } finally {
        toolstack.close();
      }
    });
  },
);
