// SPDX-License-Identifier: Apache-2.0
/**
 * The real docker-compose.yml, brought up with testcontainers' DockerComposeEnvironment exactly
 * as a user runs it (secrets from the environment, the image built by Compose): every service
 * becomes healthy, the guests exchange traffic, the VirtIO back end serves the guest a disk and
 * a console over Argo (placed by --enrolment-devices) and again after the back end restarts, and
 * the toolstack answers on loopback. Uses
 * Compose v2 (`docker compose`) when the machine has it, else v1 (`docker-compose`). Skipped,
 * with the reason, without Docker or Compose.
 */
import { ToolstackClient } from "@hmx/client";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import type { StartedDockerComposeEnvironment } from "testcontainers";
import { LogTail, composeAvailability, composeUp, eventually } from "./docker.js";
import { num } from "@hmx/testkit";

const { flavour, skip } = composeAvailability();

describe("docker-compose.yml", { skip: skip ?? false, timeout: 600_000 }, () => {
  let env: StartedDockerComposeEnvironment | undefined;
  const logs: LogTail[] = [];
  const project = `hmxtest${randomBytes(3).toString("hex")}`;
  after(async () => {
    for (const l of logs) l.close();
    await env?.down({ removeVolumes: true, timeout: 10_000 });
    // The image is this project's alone (HMX_IMAGE below): nothing else will reuse it.
    spawnSync("docker", ["rmi", "-f", `${project}:local`], { stdio: "ignore" });
  });

  test("the compose fleet comes up healthy, the guests exchange traffic, and the toolstack answers on loopback", async () => {
    const up = await composeUp(project, flavour ?? "v2");
    env = up.env;
    const { adminToken, controlPort, name } = up;

    const guest = env.getContainer(name("guest"));
    const log = await LogTail.of(guest);
    logs.push(log);
    const isolatedLog = await LogTail.of(env.getContainer(name("isolated")));
    logs.push(isolatedLog);
    // One guest and the isolated guest: traffic flows isolated → guest; guest → isolated is the
    // fleet's deliberate denial.
    const stats = await eventually(
      "the compose guest to receive traffic and be refused the isolated peer",
      60_000,
      () => {
        const s = log.records("guest stats").at(-1);
        return num(s, "received") > 0 && num(s, "denied") === 1 ? s : undefined;
      },
    );
    assert.deepEqual(
      [num(stats, "gaps"), num(stats, "duplicates"), num(stats, "reordered")],
      [0, 0, 0],
    );
    // Its stats record may predate the send the guest already saw: wait for one that shows it.
    const iso = await eventually("the isolated guest to report sending", 30_000, () => {
      const r = isolatedLog.records("guest stats").at(-1);
      return num(r, "sent") > 0 ? r : undefined;
    });
    assert.equal(num(iso, "received"), 0, "nothing reaches the isolated guest");

    // VirtIO: the guest found its three devices in its table and uses the disk and console.
    const virtio = await eventually(
      "the guest's virtio disk and console to carry traffic",
      90_000,
      () => {
        const v = log.records("guest stats").at(-1)?.["virtio"] as
          Record<string, unknown> | undefined;
        return num(v, "devices") === 3 && num(v, "blkReads") > 0 && num(v, "consoleBytes") > 0
          ? v
          : undefined;
      },
    );
    assert.deepEqual([num(virtio, "failedDevices"), num(virtio, "blkVerifyErrors")], [0, 0]);
    const isoVirtio = isolatedLog.records("guest stats").at(-1)?.["virtio"] as
      Record<string, unknown> | undefined;
    assert.equal(num(isoVirtio, "devices"), 0, "the isolated guest gets no devices");
    // What the compose file's header tells users to run to find a console.
    const listing = await env
      .getContainer(name("vbackend"))
      .exec(["node", "/app/cli/bin/hmx.js", "console", "--dir", "/var/lib/hmx/consoles", "--list"]);
    assert.equal(listing.exitCode, 0, listing.output);
    assert.match(listing.output, /guest-/);

    // The back end restarts (its domain survives): the guest's devices reset, come back, and the
    // guest keeps running its disk round trips.
    const readsBefore = num(
      log.records("guest stats").at(-1)?.["virtio"] as Record<string, unknown> | undefined,
      "blkReads",
    );
    await env.getContainer(name("vbackend")).restart();
    const recovered = await eventually(
      "the guest's disk to work again after the back end restarted",
      90_000,
      () => {
        const v = log.records("guest stats").at(-1)?.["virtio"] as
          Record<string, unknown> | undefined;
        return num(v, "devices") === 3 && num(v, "blkReads") > readsBefore + 2 ? v : undefined;
      },
    );
    assert.equal(
      num(recovered, "blkVerifyErrors"),
      0,
      "no disk read ever returned other bytes than written",
    );

    const toolstack = new ToolstackClient(`127.0.0.1:${controlPort}`, adminToken);
    try {
      const domains = await toolstack.listDomains();
      assert.deepEqual(domains.map((d) => d.label).sort(), ["guest_t", "isolated_t", "vbackend_t"]);
      assert.ok(domains.every((d) => d.connected));
    } finally {
      toolstack.close();
    }
  });
});
