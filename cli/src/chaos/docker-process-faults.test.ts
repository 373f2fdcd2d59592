// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { fakeFleet, FakeDocker, framed } from "./test-utils/docker-fake.js";
import { ComposeFleet, demuxLogs, lastRecord } from "./docker-fleet.js";
import {
  FREEZE_TRIES,
  applyContainerFault,
  composeProcessControl,
} from "./docker-process-faults.js";
import { chooseProcessControl, composeProjectName } from "./docker-target.js";
import { UP_PROCESS_CONTROL } from "./process-faults.js";

function fleetOf(docker: FakeDocker): ComposeFleet {
  return new ComposeFleet(docker.project, docker, {});
}

describe("compose containers are found by the names a user and a schedule use", () => {
  it("by service and number, by the service alone for its first container, by container name, and by domain name", async () => {
    const fleet = fleetOf(fakeFleet());
    assert.equal((await fleet.find("guest-2")).id, "bbbbbbbbbbbb0002");
    assert.equal((await fleet.find("hypervisor")).id, "aaaaaaaaaaaa0000");
    assert.equal((await fleet.find("hmx-demo_guest_1")).id, "0123456789ab0001");
    // A guest enrols as TEMPLATE-INSTANCE; the instance is its host name (the id's first 12 hex
    // digits) or HMX_INSTANCE.
    assert.equal((await fleet.find("guest-0123456789ab")).id, "0123456789ab0001");
    assert.equal((await fleet.find("vbackend-vbackend")).id, "cccccccccccc0003");
  });

  it("an unknown target is refused naming it, the project and the containers there are", async () => {
    const docker = fakeFleet();
    await assert.rejects(
      applyContainerFault(fleetOf(docker), { action: "kill", target: "guest-9" }),
      /no container "guest-9" in compose project "hmx-demo" \(containers: guest-1, guest-2, hypervisor-1, vbackend-1/,
    );
    assert.deepEqual(docker.calls, [], "nothing was done");
  });

  it("a project with no container is named, with how to choose another", async () => {
    const fleet = new ComposeFleet("other", fakeFleet(), {});
    await assert.rejects(
      fleet.find("guest-1"),
      /no container of compose project "other".*--project/,
    );
  });

  it("an unreachable Engine is named as such, with its address", async () => {
    const down: FakeDocker = Object.assign(fakeFleet(), {
      listContainers: () =>
        Promise.reject(Object.assign(new Error("connect ENOENT"), { code: "ENOENT" })),
    });
    const fleet = new ComposeFleet("hmx-demo", down, { DOCKER_HOST: "unix:///nowhere.sock" });
    await assert.rejects(
      fleet.find("guest-1"),
      /Docker is unreachable at unix:\/\/\/nowhere.sock \(ENOENT\)/,
    );
  });

  it("the hypervisor's published toolstack port is the control address", async () => {
    assert.equal(await fleetOf(fakeFleet()).controlAddress(), "127.0.0.1:17071");
  });

  it("the hypervisor's published HTTP listener is the history address, and none when unpublished", async () => {
    assert.equal(await fleetOf(fakeFleet()).historyAddress(), "127.0.0.1:32772");
    const unpublished = fakeFleet();
    const hypervisor = unpublished.containers.find((c) => c.service === "hypervisor");
    assert.ok(hypervisor !== undefined);
    delete hypervisor.httpPort;
    assert.equal(await fleetOf(unpublished).historyAddress(), undefined);
  });
});

describe("each process fault is its Engine calls", () => {
  const calls = async (fault: Parameters<typeof applyContainerFault>[1]) => {
    const docker = fakeFleet();
    const line = await applyContainerFault(fleetOf(docker), fault);
    return { calls: docker.calls, line };
  };

  it("a kill is SIGKILL, waiting until the container is down, then a start (Docker skips the restart policy after its own kill)", async () => {
    const { calls: made, line } = await calls({ action: "kill", target: "guest-1", forMs: 5 });
    assert.deepEqual(made, ["guest-1 kill SIGKILL", "guest-1 wait not-running", "guest-1 start"]);
    assert.match(
      line,
      /guest-1 \(container hmx-demo_guest_1\) killed \(SIGKILL\), started again after 5ms down/,
    );
  });

  it("terminate is a clean stop with the grace period, then a start; restart is docker restart", async () => {
    assert.deepEqual((await calls({ action: "terminate", target: "guest-2" })).calls, [
      "guest-2 stop t=15",
      "guest-2 wait not-running",
      "guest-2 start",
    ]);
    assert.deepEqual((await calls({ action: "restart", target: "hypervisor" })).calls, [
      "hypervisor-1 restart t=15",
    ]);
  });

  it("stop with a duration is a pause undone after it, so no container is left frozen; without one it waits for cont", async () => {
    assert.deepEqual((await calls({ action: "stop", target: "guest-1", forMs: 5 })).calls, [
      "guest-1 pause",
      "guest-1 unpause",
    ]);
    assert.deepEqual((await calls({ action: "stop", target: "guest-1" })).calls, ["guest-1 pause"]);
    assert.deepEqual((await calls({ action: "cont", target: "guest-1" })).calls, [
      "guest-1 unpause",
    ]);
  });

  it("a pause the kernel's freezer could not complete is tried again; other refusals and the last try fail", async () => {
    const docker = fakeFleet();
    docker.freezeFailures = 2;
    const line = await applyContainerFault(fleetOf(docker), {
      action: "stop",
      target: "guest-1",
      forMs: 1,
    });
    assert.deepEqual(docker.calls, [
      "guest-1 pause refused",
      "guest-1 pause refused",
      "guest-1 pause",
      "guest-1 unpause",
    ]);
    assert.match(line, /frozen at try 3/);
    const stuck = fakeFleet();
    stuck.freezeFailures = FREEZE_TRIES;
    await assert.rejects(
      applyContainerFault(fleetOf(stuck), { action: "stop", target: "guest-1" }),
      /unable to freeze/,
    );
    assert.equal(stuck.calls.length, FREEZE_TRIES, "no unpause of a container never paused");
    const refused = fakeFleet();
    refused.failing = 409;
    await assert.rejects(
      applyContainerFault(fleetOf(refused), { action: "stop", target: "guest-1" }),
      /409/,
    );
    assert.deepEqual(refused.calls, ["guest-1 pause"], "tried once");
  });

  it("a start answered 304 (the Engine restarted it first) still heals the kill; another Engine error fails it", async () => {
    const docker = fakeFleet();
    const fleet = fleetOf(docker);
    docker.failing = 304;
    await assert.rejects(applyContainerFault(fleet, { action: "kill", target: "guest-1" }), /304/);
    // Only the start may be a 304: the kill and the wait succeed here.
    const only304OnStart: FakeDocker = Object.assign(fakeFleet(), {});
    const base = only304OnStart.getContainer.bind(only304OnStart);
    only304OnStart.getContainer = (id) => ({
      ...base(id),
      start: () => Promise.reject(Object.assign(new Error("already started"), { statusCode: 304 })),
    });
    assert.match(
      await applyContainerFault(fleetOf(only304OnStart), { action: "kill", target: "guest-1" }),
      /started again/,
    );
  });

  it("faults on one target run one after another, so a pause never lands on a container a kill took down", async () => {
    const docker = fakeFleet();
    const control = composeProcessControl(fleetOf(docker));
    await Promise.all([
      control.apply({ action: "kill", target: "guest-1", forMs: 20 }),
      control.apply({ action: "stop", target: "guest-1", forMs: 1 }),
    ]);
    assert.deepEqual(docker.calls, [
      "guest-1 kill SIGKILL",
      "guest-1 wait not-running",
      "guest-1 start",
      "guest-1 pause",
      "guest-1 unpause",
    ]);
  });
});

describe("the compose guests' own figures feed the delivery checks", () => {
  it("Engine log frames are joined back into the log text", () => {
    const text = '{"msg":"a"}\n{"msg":"b"}\n';
    assert.equal(demuxLogs(framed(text)), text);
    assert.equal(demuxLogs(Buffer.from(text)), text, "a TTY log is plain text");
  });

  it("each guest's last stats record is its figures, also a guest that is down; a container that reports none is left out", async () => {
    const docker = fakeFleet();
    const stats = (received: number, lost: number) =>
      `guest-1  | ${JSON.stringify({ msg: "guest stats", workload: "fleet", received, lost, duplicates: 0, reordered: 0 })}\n`;
    const [, g1, g2, vb] = docker.containers;
    if (g1 === undefined || g2 === undefined || vb === undefined) throw new Error("fleet");
    g1.log = stats(10, 0) + "not json\n" + stats(25, 1) + '{"msg":"guest stopped"}\n';
    g2.log = stats(7, 0);
    g2.running = false;
    vb.log = `${JSON.stringify({ msg: "guest stats", workload: "virtio-backend", devices: 3 })}\n`;
    assert.deepEqual(await fleetOf(docker).receivers(), [
      { guest: "guest-1", received: 25, lost: 1, duplicates: 0, reordered: 0 },
      { guest: "guest-2", received: 7, lost: 0, duplicates: 0, reordered: 0 },
    ]);
    assert.equal(lastRecord("", "guest stats"), undefined);
  });
});

describe("the target is chosen, or found when only one fleet runs", () => {
  const probe = (upRunning: boolean, docker: FakeDocker) => ({
    upRunning: () => upRunning,
    docker: () => docker,
  });
  const env = { COMPOSE_PROJECT_NAME: "hmx-demo" };

  it("--target up is hmx up's supervisor; --target compose and --project are the compose fleet", async () => {
    assert.equal(
      await chooseProcessControl({ target: "up" }, env, true, probe(false, fakeFleet())),
      UP_PROCESS_CONTROL,
    );
    const compose = await chooseProcessControl(
      { target: "compose" },
      env,
      true,
      probe(true, fakeFleet()),
    );
    assert.equal(compose?.name, "compose project hmx-demo");
    const named = await chooseProcessControl(
      { project: "p2" },
      env,
      true,
      probe(true, fakeFleet()),
    );
    assert.equal(named?.name, "compose project p2");
  });

  it("with no flag, whichever runs is chosen; both running is refused as ambiguous, neither names what was looked for", async () => {
    assert.equal(
      (await chooseProcessControl({}, env, true, probe(false, fakeFleet())))?.name,
      "compose project hmx-demo",
    );
    assert.equal(
      await chooseProcessControl({}, env, true, probe(true, new FakeDocker("hmx-demo", []))),
      UP_PROCESS_CONTROL,
    );
    await assert.rejects(
      chooseProcessControl({}, env, true, probe(true, fakeFleet())),
      /both .*hmx up and compose project "hmx-demo" are running: say --target up or --target compose/,
    );
    await assert.rejects(
      chooseProcessControl({}, env, true, probe(false, new FakeDocker("hmx-demo", []))),
      /no fleet to act on: no hmx up .* compose project "hmx-demo" has no running container/,
    );
    assert.equal(
      await chooseProcessControl({}, env, false, probe(false, new FakeDocker("hmx-demo", []))),
      undefined,
      "a schedule run goes on without",
    );
  });

  it("a bad --target or --project is refused naming the value", async () => {
    await assert.rejects(
      chooseProcessControl({ target: "k8s" }, env, true, probe(false, fakeFleet())),
      /--target "k8s": expected up or compose/,
    );
    await assert.rejects(
      chooseProcessControl({ target: "up", project: "x" }, env, true, probe(false, fakeFleet())),
      /--project .* goes with --target compose/,
    );
    assert.throws(
      () => composeProjectName("Bad Name", {}),
      /--project "Bad Name": expected a Compose project name/,
    );
  });

  it("the project is --project, else COMPOSE_PROJECT_NAME, else the checkout's .env, else its directory as Compose names it", () => {
    assert.equal(composeProjectName("p1", { COMPOSE_PROJECT_NAME: "p2" }, "/x/My.Repo"), "p1");
    assert.equal(composeProjectName(undefined, { COMPOSE_PROJECT_NAME: "p2" }, "/x/My.Repo"), "p2");
    assert.equal(composeProjectName(undefined, {}, "/nonexistent/_My.Repo"), "myrepo");
  });
});
