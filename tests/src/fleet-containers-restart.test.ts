// SPDX-License-Identifier: Apache-2.0
/**
 * The container fleet outlives its hypervisor (issue 13 item 2): the real docker-compose.yml
 * under traffic, and its hypervisor container
 *  - `docker kill`ed (Docker does not restart a container it was told to kill, so the test
 *    starts it again, as an operator would),
 *  - `docker restart`ed,
 *  - crashed from inside (its hmx process SIGKILLed: the restart policy brings it back),
 * and after each the guests carry on: the same guest containers (never restarted), the same
 * domains, the stream into the guest still complete and in order, the virtio disk still
 * verified. It needs the hypervisor's `--state-dir` (h13): marked todo, with the reason, until
 * this build has it. Skipped, with the reason, without Docker or Compose.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { ToolstackClient } from "@hmx/client";
import type { StartedDockerComposeEnvironment } from "testcontainers";
import { LogTail, composeAvailability, composeUp, eventually } from "./containers/docker.js";
import { num } from "@hmx/testkit";
import { stateDirTodo } from "./fleet-restart-harness.js";

const { flavour, skip } = composeAvailability();

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", timeout: 120_000 }).trim();
}

/** Kills the hypervisor's hmx process from inside its container (tini stays PID 1). */
const CRASH_FROM_INSIDE = `
  const fs = require("node:fs");
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\\d+$/.test(p) || Number(p) === process.pid) continue;
    let argv = [];
    try { argv = fs.readFileSync("/proc/" + p + "/cmdline", "utf8").split("\\0"); } catch {}
    if (argv.includes("hypervisor")) process.kill(Number(p), "SIGKILL");
  }`;

describe(
  "the container fleet outlives its hypervisor",
  { skip: skip ?? false, todo: skip === undefined ? stateDirTodo() : false, timeout: 900_000 },
  () => {
    let env: StartedDockerComposeEnvironment | undefined;
    const logs: LogTail[] = [];
    const project = `hmxtestrestart${randomBytes(3).toString("hex")}`;
    after(async () => {
      for (const l of logs) l.close();
      await env?.down({ removeVolumes: true, timeout: 10_000 });
      docker("rmi", "-f", `${project}:local`);
    });

    test("after docker kill + start, docker restart, and a crash inside the container, the guests carry on with nothing lost", async () => {
      const up = await composeUp(project, flavour ?? "v2");
      env = up.env;
      const fleet = up.env;
      const hv = fleet.getContainer(up.name("hypervisor"));
      const guests = ["guest", "isolated", "vbackend"].map((s) => fleet.getContainer(up.name(s)));
      const guestLog = await LogTail.of(fleet.getContainer(up.name("guest")));
      logs.push(guestLog);
      const latest = () => guestLog.records("guest stats").at(-1);
      const virtio = () => latest()?.["virtio"] as Record<string, unknown> | undefined;
      const startedAt = () =>
        guests.map((g) => docker("inspect", "-f", "{{.State.StartedAt}}", g.getId()));
      const toolstack = new ToolstackClient(`127.0.0.1:${up.controlPort}`, up.adminToken);
      try {
        await eventually("the isolated guest's stream and the guest's disk", 120_000, () =>
          num(latest(), "received") > 20 && num(virtio(), "blkReads") > 0 ? true : undefined,
        );
        const domains = (await toolstack.listDomains()).map((d) => `${d.domid}:${d.label}`).sort();
        const guestsStarted = startedAt();

        const outages: [string, () => Promise<void>][] = [
          [
            "docker kill, then docker start",
            () => {
              docker("kill", hv.getId());
              docker("start", hv.getId());
              return Promise.resolve();
            },
          ],
          ["docker restart", () => hv.restart()],
          [
            "a crash inside the container",
            async () => {
              const before = Number(docker("inspect", "-f", "{{.RestartCount}}", hv.getId()));
              docker("exec", hv.getId(), "node", "-e", CRASH_FROM_INSIDE);
              await eventually("the restart policy to bring the hypervisor back", 60_000, () =>
                Number(docker("inspect", "-f", "{{.RestartCount}}", hv.getId())) > before
                  ? true
                  : undefined,
              );
            },
          ],
        ];
        for (const [what, outage] of outages) {
          const received = num(latest(), "received");
          const reads = num(virtio(), "blkReads");
          await outage();
          await eventually(`traffic and disk reads after ${what}`, 120_000, () =>
            num(latest(), "received") > received + 20 && num(virtio(), "blkReads") > reads + 2
              ? true
              : undefined,
          );
          const s = latest();
          assert.deepEqual(
            [num(s, "gaps"), num(s, "duplicates"), num(s, "reordered")],
            [0, 0, 0],
            `nothing lost, duplicated or reordered after ${what}`,
          );
          assert.equal(num(virtio(), "blkVerifyErrors"), 0, `disk contents intact after ${what}`);
          assert.deepEqual(
            startedAt(),
            guestsStarted,
            `no guest container restarted after ${what}`,
          );
          assert.deepEqual(
            (
              await eventually("the toolstack after the restart", 60_000, () =>
                toolstack.listDomains().catch(() => undefined),
              )
            )
              .map((d) => `${d.domid}:${d.label}`)
              .sort(),
            domains,
            `the same domains after ${what}`,
          );
        }
      } finally {
        toolstack.close();
      }
    });
  },
);
