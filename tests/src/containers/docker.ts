// SPDX-License-Identifier: Apache-2.0
/**
 * What the container tests need from the machine: whether a Docker daemon answers (the tests
 * report as skipped, with the reason, when not), the registry-free base image, the host-built
 * image contents, and one hmx image built from deploy/docker/Dockerfile for the whole run.
 * Every image, container and network made here carries the label hmx.test=true so that
 * `.ci/run` can sweep them even after a crash; each test also removes its own.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import {
  DockerComposeEnvironment,
  GenericContainer,
  Wait,
  type StartedDockerComposeEnvironment,
  type StartedTestContainer,
} from "testcontainers";
import type { Readable } from "node:stream";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const BASE_IMAGE = "hmx-node-base:local";
export const TEST_LABELS = { "hmx.test": "true" } as const;

// No image registry is reachable: never start the Ryuk reaper (it would be pulled).
process.env["TESTCONTAINERS_RYUK_DISABLED"] = "true";

/** Undefined when Docker is usable, else why not (the tests then skip with this reason). */
export function dockerUnavailable(): string | undefined {
  const r = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (r.error !== undefined) return `no docker client: ${r.error.message}`;
  if (r.status !== 0)
    return `no Docker daemon answers (${(r.stderr || "docker info failed").trim().split("\n")[0]})`;
  return undefined;
}

function run(script: string): void {
  execFileSync("bash", [script], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 300_000,
  });
}

/** Builds the base image if missing, stages the host build, and builds a uniquely tagged hmx image. */
export async function buildTestImage(): Promise<string> {
  if (spawnSync("docker", ["image", "inspect", BASE_IMAGE], { stdio: "ignore" }).status !== 0)
    run("deploy/docker/make-base-image.sh");
  run("deploy/docker/stage.sh");
  const name = `hmx-test:${randomBytes(4).toString("hex")}`;
  await GenericContainer.fromDockerfile(REPO_ROOT, "deploy/docker/Dockerfile")
    .withBuildArgs({ NODE_BASE: BASE_IMAGE })
    .build(name, { deleteOnExit: false });
  return name;
}

/** Removes a test image and the untagged build stages it left behind. */
export function removeImage(name: string): void {
  spawnSync("docker", ["rmi", "-f", name], { stdio: "ignore" });
  spawnSync("docker", ["image", "prune", "-f", "--filter", "label=hmx.stage=app"], {
    stdio: "ignore",
  });
}

/**
 * The JSON log records with this `msg` in a log's text. Each record may follow a prefix (Compose
 * writes `guest_1  | ` before it), so parsing starts at the line's first `{`.
 */
export function jsonRecords(text: string, msg: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    const start = line.indexOf("{");
    if (start < 0) continue;
    try {
      const r = JSON.parse(line.slice(start)) as Record<string, unknown>;
      if (r["msg"] === msg) out.push(r);
    } catch {
      // A partial or non-JSON line.
    }
  }
  return out;
}

/** A container's log, accumulated as it is written. */
export class LogTail {
  text = "";
  private constructor(private readonly stream: Readable) {
    stream.on("data", (chunk: Buffer | string) => {
      this.text += chunk.toString();
    });
    stream.on("error", () => undefined);
  }

  static async of(container: StartedTestContainer): Promise<LogTail> {
    return new LogTail(await container.logs());
  }

  /** The JSON log records with this `msg`. */
  records(msg: string): Record<string, unknown>[] {
    return jsonRecords(this.text, msg);
  }

  close(): void {
    this.stream.destroy();
  }
}

/** Polls `check` every 250 ms until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Which Compose the machine has: v2 (`docker compose`) preferred, else v1 (`docker-compose`). */
/**
 * What a compose test needs before it runs: a Docker daemon and a Compose (v2's `docker compose`
 * or v1's `docker-compose`). `skip` says what is missing; `flavour` is the Compose to use.
 */
export function composeAvailability(): {
  flavour: "v2" | "v1" | undefined;
  skip: string | undefined;
} {
  const dockerReason = dockerUnavailable();
  const flavour = dockerReason === undefined ? composeFlavour() : undefined;
  const skip =
    dockerReason ??
    (flavour === undefined
      ? "neither `docker compose` nor `docker-compose` is installed"
      : undefined);
  return { flavour, skip };
}

export function composeFlavour(): "v2" | "v1" | undefined {
  if (spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status === 0) return "v2";
  if (spawnSync("docker-compose", ["version"], { stdio: "ignore" }).status === 0) return "v1";
  return undefined;
}

/** A free TCP port on loopback (for the published toolstack port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === "object" && a !== null ? a.port : 0);
      });
    });
  });
}

/** The real docker-compose.yml, up and healthy under its own project name. */
export interface ComposeFleet {
  readonly env: StartedDockerComposeEnvironment;
  readonly adminToken: string;
  readonly controlPort: number;
  /** A service's (first) container name, as this Compose flavour spells it. */
  readonly name: (service: string) => string;
}

/**
 * Brings docker-compose.yml up exactly as a user runs it (secrets from the environment, the
 * image built by Compose under a per-project tag), waiting for every health check.
 */
/** The ids of every container of a compose project, running or not. */
export function composeContainers(project: string): string[] {
  const ps = spawnSync(
    "docker",
    ["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`],
    { encoding: "utf8" },
  );
  return ps.stdout.split("\n").filter((id) => id !== "");
}

/** What to bring up: Compose profiles to enable, and only these services (with their deps). */
export interface ComposeSelection {
  readonly profiles?: readonly string[];
  readonly services?: readonly string[];
  /** More `up` options, e.g. ["--scale", "guest=3"]. */
  readonly upOptions?: readonly string[];
}

export async function composeUp(
  project: string,
  flavour: "v2" | "v1",
  selection: ComposeSelection = {},
): Promise<ComposeFleet> {
  spawnSync("bash", ["deploy/docker/make-base-image.sh"], { cwd: REPO_ROOT, stdio: "ignore" });
  spawnSync("bash", ["deploy/docker/stage.sh"], { cwd: REPO_ROOT, stdio: "ignore" });
  const adminToken = randomBytes(24).toString("base64url");
  const controlPort = await freePort();
  const name = (service: string) => (flavour === "v1" ? `${project}_${service}_1` : `${service}-1`);
  const compose = new DockerComposeEnvironment(REPO_ROOT, "docker-compose.yml")
    .withProjectName(project)
    .withBuild()
    .withEnvironment({
      HMX_NODE_BASE: BASE_IMAGE,
      HMX_ADMIN_TOKEN: adminToken,
      HMX_ENROLMENT_TOKEN_GUEST: randomBytes(24).toString("base64url"),
      HMX_ENROLMENT_TOKEN_ISOLATED: randomBytes(24).toString("base64url"),
      HMX_ENROLMENT_TOKEN_VBACKEND: randomBytes(24).toString("base64url"),
      HMX_ENROLMENT_TOKEN_APP: randomBytes(24).toString("base64url"),
      HMX_CONTROL_PORT: String(controlPort),
      // Per-project image tag, as `hmx fleet init` writes it: no other checkout shares it.
      HMX_IMAGE: `${project}:local`,
    })
    .withClientOptions({
      ...(flavour === "v1" ? { executable: { standalone: true } } : {}),
      commandOptions: [...(selection.upOptions ?? [])],
    })
    .withProfiles(...(selection.profiles ?? []))
    .withDefaultWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(120_000);
  let env: StartedDockerComposeEnvironment;
  try {
    env = await compose.up(selection.services === undefined ? undefined : [...selection.services]);
  } catch (err) {
    // A fleet that never became healthy is still running, and with its restart policies it
    // would keep restarting after the test: take the project down before reporting the failure.
    spawnSync("docker", ["rm", "-f", ...composeContainers(project)], { stdio: "ignore" });
    spawnSync("docker", ["network", "rm", `${project}_default`], { stdio: "ignore" });
    spawnSync("docker", ["volume", "rm", `${project}_hypervisor-state`], { stdio: "ignore" });
    throw err;
  }
  return { env, adminToken, controlPort, name };
}
