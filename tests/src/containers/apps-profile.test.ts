// SPDX-License-Identifier: Apache-2.0
/**
 * docker-compose.yml's `apps` profile, brought up as a user does (deploy/docker/stage-apps.sh,
 * then Compose builds the app image and starts the services): redis-server and an HTTP server,
 * each in its own guest container with no network but loopback, beside an exit tunnel; a
 * redis-cli and a curl container reach them only through their entry tunnels, across Argo.
 * SET / GET and an HTTP GET and POST (the body's SHA-256 checked) must work, and taking the
 * project down must leave no container, network or volume behind. Skipped, with the reason,
 * without Docker and Compose, or without the host's redis-server, redis-cli and curl (what
 * stage-apps.sh copies into the image).
 */
import { ToolstackClient } from "@hmx/client";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import type { StartedDockerComposeEnvironment } from "testcontainers";
import { missing } from "../tunnels/tunnel-pair.js";
import {
  REPO_ROOT,
  composeAvailability,
  composeContainers,
  composeUp,
  eventually,
} from "./docker.js";

const { flavour, skip: composeSkip } = composeAvailability();
const skip =
  composeSkip ??
  missing("redis-server", "redis-server") ??
  missing("redis-cli", "redis-tools") ??
  missing("curl", "curl");
const APP_SERVICES = ["redis", "redis-client", "web", "web-client"];

/** Whatever of a compose project is left: containers, networks, volumes (ids or names). */
function leftovers(project: string): string[] {
  const list = (what: string): string[] =>
    spawnSync(
      "docker",
      [what, "ls", "-q", "--filter", `label=com.docker.compose.project=${project}`],
      { encoding: "utf8" },
    )
      .stdout.split("\n")
      .filter((l) => l !== "")
      .map((l) => `${what} ${l}`);
  return [...composeContainers(project), ...list("network"), ...list("volume")];
}

describe("docker-compose.yml --profile apps", { skip: skip ?? false, timeout: 600_000 }, () => {
  let env: StartedDockerComposeEnvironment | undefined;
  const project = `hmxtest${randomBytes(3).toString("hex")}`;
  after(async () => {
    await env?.down({ removeVolumes: true, timeout: 10_000 });
    // Both images are this project's alone (HMX_IMAGE and its -apps tag).
    spawnSync("docker", ["rmi", "-f", `${project}:local-apps`, `${project}:local`], {
      stdio: "ignore",
    });
  });

  test("Redis and HTTP, each in a guest container with no network, answer clients in other guest containers across Argo, also after a restart; down leaves nothing", async () => {
    execFileSync("bash", ["deploy/docker/stage-apps.sh"], { cwd: REPO_ROOT, stdio: "ignore" });
    const up = await composeUp(project, flavour ?? "v2", {
      profiles: ["apps"],
      services: APP_SERVICES,
    });
    env = up.env;
    // Each app container has loopback only: Argo is its one way out.
    const modes = spawnSync(
      "docker",
      [
        "inspect",
        "--format",
        '{{index .Config.Labels "com.docker.compose.service"}} {{.HostConfig.NetworkMode}}',
        ...composeContainers(project),
      ],
      { encoding: "utf8" },
    ).stdout;
    for (const service of APP_SERVICES) assert.match(modes, new RegExp(`^${service} none$`, "m"));

    const redisClient = env.getContainer(up.name("redis-client"));
    const cli = async (...args: string[]): Promise<string> => {
      const r = await redisClient.exec(["redis-cli", ...args]);
      assert.equal(r.exitCode, 0, `redis-cli ${args.join(" ")}: ${r.output}`);
      return r.stdout.trim();
    };
    // Healthy means each guest's session is up; the first command may still meet a tunnel that
    // is resolving its peer, so the first answer is awaited.
    await eventually("redis-cli through the tunnel to answer PING", 60_000, async () =>
      (await redisClient.exec(["redis-cli", "PING"])).stdout.trim() === "PONG" ? true : undefined,
    );
    assert.equal(await cli("SET", "greeting", "hello over argo"), "OK");
    assert.equal(await cli("GET", "greeting"), "hello over argo");

    const webClient = env.getContainer(up.name("web-client"));
    const get = await webClient.exec([
      "curl",
      "-sS",
      "--max-time",
      "30",
      "http://127.0.0.1:8080/hi",
    ]);
    assert.equal(get.exitCode, 0, get.output);
    assert.deepEqual(JSON.parse(get.stdout), {
      hello: "from the web guest, across Argo",
      path: "/hi",
    });
    // A body larger than one stream window, checked end to end.
    const body = "argo".repeat(25_000);
    const post = await webClient.exec([
      "curl",
      "-sS",
      "--max-time",
      "30",
      "--data-binary",
      body,
      "http://127.0.0.1:8080/upload",
    ]);
    assert.equal(post.exitCode, 0, post.output);
    assert.deepEqual(JSON.parse(post.stdout), {
      length: body.length,
      sha256: createHash("sha256").update(body).digest("hex"),
    });

    // A restarted server container (redis-server and its tunnel together, beside.mjs) resumes
    // its domain (--state-dir) and is reachable through the same client tunnel again.
    const toolstack = new ToolstackClient(`127.0.0.1:${up.controlPort}`, up.adminToken);
    const domains = async (): Promise<string[]> =>
      (await toolstack.listDomains()).map((d) => `${d.domid} ${d.name}`).sort();
    const domainsBefore = await domains();
    await env.getContainer(up.name("redis")).restart();
    await eventually("redis-cli to reach the restarted redis container", 90_000, async () =>
      (await redisClient.exec(["redis-cli", "SET", "again", "1"])).stdout.trim() === "OK"
        ? true
        : undefined,
    );
    assert.deepEqual(await domains(), domainsBefore, "the same domains, none new");
    toolstack.close();

    await env.down({ removeVolumes: true, timeout: 10_000 });
    env = undefined;
    assert.deepEqual(leftovers(project), [], "nothing of the project is left");
  });
});
