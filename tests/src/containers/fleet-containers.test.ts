// SPDX-License-Identifier: Apache-2.0
/**
 * The fleet in real containers (testcontainers): the image built from deploy/docker, a
 * hypervisor container and guest containers with no network that reach the hypervisor through
 * its Unix socket and each other only through Argo. Proves cross-container traffic arrives
 * complete and in order, the policy's denial is enforced and audited, a restarted guest
 * container resumes its domain, and a fleet of 20 guests comes up healthy and talks. Everything
 * created here is removed afterwards, also on failure. Skipped (with the reason) without Docker.
 */
import { ToolstackClient } from "@hmx/client";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import {
  LogTail,
  REPO_ROOT,
  TEST_LABELS,
  buildTestImage,
  dockerUnavailable,
  eventually,
  removeImage,
} from "./docker.js";
import { num } from "@hmx/testkit";

const skip = dockerUnavailable();
const ADMIN_TOKEN = randomBytes(24).toString("base64url");
const GUEST_TOKEN = randomBytes(24).toString("base64url");
const ISOLATED_TOKEN = randomBytes(24).toString("base64url");

describe("the fleet in containers", { skip: skip ?? false, timeout: 600_000 }, () => {
  let image = "";
  let socketDir = "";
  let hypervisor: StartedTestContainer | undefined;
  let hvLog: LogTail | undefined;
  let toolstack: ToolstackClient | undefined;
  const started: StartedTestContainer[] = [];
  const logs: LogTail[] = [];

  before(async () => {
    image = await buildTestImage();
    socketDir = mkdtempSync(join(tmpdir(), "hmx-guest-api-"));
    // The hypervisor runs as uid 10001 and creates its socket here.
    chmodSync(socketDir, 0o777);
    hypervisor = await new GenericContainer(image)
      .withLabels(TEST_LABELS)
      .withCommand([
        "hypervisor",
        "--listen=unix:/run/hmx/guest.sock",
        "--control-listen=0.0.0.0:7071",
        "--policy=/etc/hmx/policy/fleet.te",
        "--argo-mac-permissive",
        "--enrolment-template=guest:guest_t:8M:64",
        "--enrolment-template=isolated:isolated_t:8M:1",
      ])
      .withEnvironment({
        HMX_ADMIN_TOKEN: ADMIN_TOKEN,
        HMX_ENROLMENT_TOKEN_GUEST: GUEST_TOKEN,
        HMX_ENROLMENT_TOKEN_ISOLATED: ISOLATED_TOKEN,
        HMX_HEALTH_GRPC: "127.0.0.1:7071",
      })
      .withBindMounts([
        { source: socketDir, target: "/run/hmx", mode: "rw" },
        { source: join(REPO_ROOT, "deploy/policy"), target: "/etc/hmx/policy", mode: "ro" },
      ])
      .withExposedPorts(7071)
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(60_000)
      .start();
    hvLog = await LogTail.of(hypervisor);
    toolstack = new ToolstackClient(
      `${hypervisor.getHost()}:${hypervisor.getMappedPort(7071)}`,
      ADMIN_TOKEN,
    );
  });

  after(async () => {
    for (const l of logs) l.close();
    hvLog?.close();
    toolstack?.close();
    await Promise.allSettled(started.map((c) => c.stop({ remove: true, timeout: 5_000 })));
    await hypervisor?.stop({ remove: true, timeout: 5_000 });
    if (image !== "") removeImage(image);
    if (socketDir !== "") rmSync(socketDir, { recursive: true, force: true });
  });

  async function startGuest(
    token: string,
    rate = 20,
  ): Promise<{ container: StartedTestContainer; log: LogTail }> {
    const container = await new GenericContainer(image)
      .withLabels(TEST_LABELS)
      .withCommand([
        "guest",
        "--hypervisor=unix:/run/hmx/guest.sock",
        "--workload=fleet",
        "--state-dir=/var/lib/hmx",
        `--rate=${rate}`,
        "--stats-interval-ms=500",
      ])
      .withEnvironment({ HMX_ENROLMENT_TOKEN: token })
      .withNetworkMode("none")
      .withBindMounts([{ source: socketDir, target: "/run/hmx", mode: "rw" }])
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(90_000)
      .start();
    started.push(container);
    const log = await LogTail.of(container);
    logs.push(log);
    return { container, log };
  }

  const latestStats = (log: LogTail) => log.records("guest stats").at(-1);

  test("guests in separate containers exchange numbered streams through Argo, complete and in order", async () => {
    const guests = await Promise.all([
      startGuest(GUEST_TOKEN),
      startGuest(GUEST_TOKEN),
      startGuest(GUEST_TOKEN),
    ]);
    for (const [i, g] of guests.entries()) {
      const s = await eventually(`guest ${i} to receive from both peers`, 60_000, () => {
        const st = latestStats(g.log);
        return num(st, "streams") >= 2 && num(st, "received") >= 100 ? st : undefined;
      });
      assert.deepEqual(
        [num(s, "gaps"), num(s, "duplicates"), num(s, "reordered"), num(s, "lost")],
        [0, 0, 0, 0],
        `guest ${i}: ${JSON.stringify(s)}`,
      );
    }
    const domains = (await toolstack?.listDomains()) ?? [];
    assert.equal(domains.filter((d) => d.label === "guest_t" && d.connected).length, 3);
  });

  test("the policy denies sending to the isolated guest across containers, and the denial is audited", async () => {
    const isolated = await startGuest(ISOLATED_TOKEN);
    const s = await eventually("the isolated guest to send to the others", 60_000, () => {
      const st = latestStats(isolated.log);
      return num(st, "sent") >= 20 ? st : undefined;
    });
    assert.equal(num(s, "denied"), 0, "isolated_t may send to guest_t");
    await eventually("an AVC denial in the hypervisor's log", 30_000, () =>
      hvLog?.text.includes("avc: denied { send }") === true &&
      hvLog.text.includes("tcontext=isolated_t")
        ? true
        : undefined,
    );
    assert.equal(
      num(latestStats(isolated.log), "received"),
      0,
      "nobody got through to the isolated guest",
    );
  });

  test("a restarted guest container resumes its domain: same domid, nothing lost in the streams it sends", async () => {
    const { container, log } = await startGuest(GUEST_TOKEN);
    const first = await eventually("the guest to enrol", 30_000, () =>
      log.records("enrolled").at(0),
    );
    const before = (await toolstack?.listDomains())?.length ?? 0;
    await container.restart({ timeout: 5_000 });
    const restartedLog = await LogTail.of(container);
    logs.push(restartedLog);
    const resumed = await eventually(
      "the restarted guest to resume its domain",
      60_000,
      () =>
        restartedLog.records("resumed domain with stored credential").at(0) ??
        restartedLog.records("enrolled").find((r) => r["resumed"] === true),
    );
    assert.equal(num(resumed, "domid"), num(first, "domid"), "the same domid");
    assert.equal(
      (await toolstack?.listDomains())?.length ?? 0,
      before,
      "no new domain was created",
    );
    // Its ring came back from the agent state in its own memory.
    await eventually("the restarted guest to resume its ring", 30_000, () =>
      restartedLog.records("ring resumed").at(0),
    );
    const after = await eventually("the restarted guest to send and receive again", 60_000, () => {
      const s = latestStats(restartedLog);
      return num(s, "sent") > 20 && num(s, "received") > 20 ? s : undefined;
    });
    // The restarted guest continued its peers' streams where it stopped: a message lost or
    // repeated across the restart would show here as a gap or a duplicate.
    assert.deepEqual(
      [num(after, "gaps"), num(after, "lost"), num(after, "duplicates"), num(after, "reordered")],
      [0, 0, 0, 0],
      JSON.stringify(after),
    );
    // Every other receiver checked its streams too, from before and after the restart.
    for (const l of logs) {
      const s = latestStats(l);
      if (s === undefined) continue;
      assert.deepEqual(
        [num(s, "gaps"), num(s, "duplicates"), num(s, "reordered")],
        [0, 0, 0],
        JSON.stringify(s),
      );
    }
  });

  test("a fleet of 20 guest containers becomes healthy and exchanges traffic", async () => {
    const fleet: { container: StartedTestContainer; log: LogTail }[] = [];
    // Start in waves so two cores are not asked to boot twenty Node processes at once.
    for (let wave = 0; wave < 4; wave++) {
      fleet.push(
        ...(await Promise.all(Array.from({ length: 5 }, () => startGuest(GUEST_TOKEN, 2)))),
      );
    }
    assert.equal(fleet.length, 20);
    for (const [i, g] of fleet.entries()) {
      await eventually(`fleet guest ${i} to receive traffic`, 120_000, () =>
        num(latestStats(g.log), "received") > 0 ? true : undefined,
      );
    }
    const connected = ((await toolstack?.listDomains()) ?? []).filter((d) => d.connected).length;
    assert.ok(connected >= 20, `${connected} guests connected`);
  });
});
