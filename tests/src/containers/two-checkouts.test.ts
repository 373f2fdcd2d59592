// SPDX-License-Identifier: Apache-2.0
/**
 * Two checkouts of hmx on one Docker host, each set up as a user does it (`hmx fleet init
 * --local-base`, then `docker compose up -d`), run side by side without touching each other:
 * each fleet's guests exchange traffic and meet the policy's denial, each toolstack answers on
 * its own published port with its own admin token only, and the two share no image tag,
 * container, network, volume or port. `docker compose down -v --rmi all` then leaves nothing of
 * either behind. The checkouts are copies of the deployable files (compose file, deploy/, the
 * built CLI and the host-built stage) in two directories with the same name under different
 * parents, so only the path tells them apart, as with two clones called `hmx`. Their resources
 * are named `hmx-hmxtest-checkout-<hash>…`, which `.ci/run`'s `hmxtest` sweep also catches.
 * Uses Compose v2 when the machine has it, else v1. Skipped, with the reason, without Docker or
 * Compose.
 */
import { ToolstackClient } from "@hmx/client";
import { readEnvFile } from "@hmx/cli/fleet";
import assert from "node:assert/strict";
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { REPO_ROOT, composeAvailability, eventually, jsonRecords } from "./docker.js";
import { num } from "@hmx/testkit";

const { flavour, skip } = composeAvailability();

/** What a checkout needs to run `hmx fleet init` and `docker compose up` (node_modules is linked). */
const DEPLOYABLE = [
  "package.json",
  "docker-compose.yml",
  ".dockerignore",
  "deploy",
  "cli/package.json",
  "cli/bin",
  "cli/dist",
];

/** The environment without this shell's HMX_* or COMPOSE_* settings, which would override .env. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("HMX_") && !k.startsWith("COMPOSE_")),
  );
}

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: "utf8", timeout: 300_000 });
}

function mustSucceed(what: string, r: SpawnSyncReturns<string>): string {
  if (r.status !== 0)
    throw new Error(
      `${what} failed (exit ${r.status ?? r.signal}): ${r.stderr || r.error?.message}`,
    );
  return r.stdout;
}

/** One checkout: its directory and what `hmx fleet init` wrote into its .env. */
class Checkout {
  env = new Map<string, string>();
  constructor(readonly dir: string) {}

  get project(): string {
    return this.env.get("COMPOSE_PROJECT_NAME") ?? "";
  }

  /** Copies the deployable files and this machine's host-built stage into `dir`. */
  make(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const path of DEPLOYABLE)
      // verbatimSymlinks: the stage's node_modules links stay relative, so they resolve in the image.
      cpSync(join(REPO_ROOT, path), join(this.dir, path), {
        recursive: true,
        verbatimSymlinks: true,
      });
    symlinkSync(join(REPO_ROOT, "node_modules"), join(this.dir, "node_modules"));
  }

  init(): string {
    // --no-stage: the stage (deploy/docker/.stage) was copied; building it needs the sources.
    const r = sh(
      process.execPath,
      [join(this.dir, "cli/bin/hmx.js"), "fleet", "init", "--local-base", "--no-stage"],
      this.dir,
    );
    mustSucceed(`hmx fleet init in ${this.dir}`, r);
    this.env = readEnvFile(join(this.dir, ".env"));
    return r.stderr;
  }

  /** `docker compose up -d`; on failure, the error carries the services' last log lines. */
  up(): void {
    const r = this.compose(["up", "-d"]);
    if (r.status === 0) return;
    const logs = this.compose(["logs", "--no-color", "--tail", "15"]).stdout;
    throw new Error(`compose up in ${this.dir} failed: ${r.stderr}\n${logs}`);
  }

  compose(args: string[]): SpawnSyncReturns<string> {
    return flavour === "v1"
      ? sh("docker-compose", args, this.dir)
      : sh("docker", ["compose", ...args], this.dir);
  }

  /** The `msg` records of a service's log, as `docker compose logs` prints it. */
  records(service: string, msg: string): Record<string, unknown>[] {
    return jsonRecords(this.compose(["logs", "--no-color", service]).stdout, msg);
  }

  /** Names of this project's Docker objects of one kind (container, network, volume). */
  objects(kind: "container" | "network" | "volume"): string[] {
    const args = kind === "container" ? ["ps", "-a"] : [kind, "ls"];
    const out = sh(
      "docker",
      [
        ...args,
        "--filter",
        `label=com.docker.compose.project=${this.project}`,
        "--format",
        kind === "container" ? "{{.Names}}" : "{{.Name}}",
      ],
      this.dir,
    ).stdout;
    return out
      .split("\n")
      .filter((l) => l !== "")
      .sort();
  }

  /** Everything this checkout made on the Docker host, removed; safe to call twice. */
  down(): void {
    if (this.project === "") return;
    this.compose(["down", "-v", "--rmi", "all", "--timeout", "10"]);
    const base = this.env.get("HMX_NODE_BASE");
    if (base !== undefined) sh("docker", ["rmi", "-f", base], this.dir);
  }
}

function inspect(format: string, names: string[]): string[] {
  return execFileSync("docker", ["inspect", "--format", format, ...names], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l !== "");
}

function imageExists(name: string): boolean {
  return spawnSync("docker", ["image", "inspect", name], { stdio: "ignore" }).status === 0;
}

describe("two checkouts side by side", { skip: skip ?? false, timeout: 600_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "hmx-two-checkouts-"));
  const a = new Checkout(join(root, "one", "hmxtest-checkout"));
  const b = new Checkout(join(root, "two", "hmxtest-checkout"));

  before(() => {
    mustSucceed("deploy/docker/stage.sh", sh("bash", ["deploy/docker/stage.sh"], REPO_ROOT));
    a.make();
    b.make();
  });

  after(() => {
    a.down();
    b.down();
    // The untagged build stages (label hmx.stage=app) the two image builds left.
    spawnSync("docker", ["image", "prune", "-f", "--filter", "label=hmx.stage=app"], {
      stdio: "ignore",
    });
    rmSync(root, { recursive: true, force: true });
  });

  test("each checkout's fleet init names its own project, images and port, and both fleets come up", () => {
    // One after the other, as two users would: B's init sees A's port taken and picks another.
    const saidA = a.init();
    a.up();
    const saidB = b.init();
    b.up();
    for (const [c, said] of [
      [a, saidA],
      [b, saidB],
    ] as const) {
      assert.ok(
        said.includes(`image ${c.env.get("HMX_IMAGE")}`),
        `init says what it tags: ${said}`,
      );
      assert.ok(
        said.includes(`built and tagged the Node base image ${c.env.get("HMX_NODE_BASE")}`),
      );
    }
    for (const key of ["COMPOSE_PROJECT_NAME", "HMX_IMAGE", "HMX_NODE_BASE", "HMX_CONTROL_PORT"])
      assert.notEqual(a.env.get(key), b.env.get(key), `${key} differs between the checkouts`);
    assert.notEqual(a.env.get("HMX_ADMIN_TOKEN"), b.env.get("HMX_ADMIN_TOKEN"));
  });

  test("each fleet's guests exchange traffic and meet the denial", async () => {
    await Promise.all(
      [a, b].map(async (c) => {
        const stats = await eventually(
          `${c.project}'s guest to receive and be denied`,
          120_000,
          () => {
            const s = c.records("guest", "guest stats").at(-1);
            return num(s, "received") > 0 && num(s, "denied") === 1 ? s : undefined;
          },
        );
        assert.deepEqual([num(stats, "gaps"), num(stats, "duplicates")], [0, 0]);
        const iso = await eventually(`${c.project}'s isolated guest to send`, 60_000, () => {
          const s = c.records("isolated", "guest stats").at(-1);
          return num(s, "sent") > 0 ? s : undefined;
        });
        assert.equal(num(iso, "received"), 0, "nothing reaches the isolated guest");
      }),
    );
  });

  test("each toolstack answers on its own port, to its own admin token only", async () => {
    for (const [mine, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const port = mine.env.get("HMX_CONTROL_PORT") ?? "";
      const own = new ToolstackClient(`127.0.0.1:${port}`, mine.env.get("HMX_ADMIN_TOKEN") ?? "");
      const foreign = new ToolstackClient(
        `127.0.0.1:${port}`,
        other.env.get("HMX_ADMIN_TOKEN") ?? "",
      );
      try {
        const domains = await own.listDomains();
        assert.deepEqual(domains.map((d) => d.label).sort(), [
          "guest_t",
          "isolated_t",
          "vbackend_t",
        ]);
        await assert.rejects(foreign.listDomains(), "the other checkout's admin token is refused");
      } finally {
        own.close();
        foreign.close();
      }
    }
  });

  test("the two projects share no image, container, network, volume or published port", () => {
    const seen = new Map<string, string>();
    for (const c of [a, b]) {
      const containers = c.objects("container");
      assert.equal(containers.length, 4, `${c.project}: hypervisor, guest, isolated, vbackend`);
      assert.deepEqual(
        [...new Set(inspect("{{.Config.Image}}", containers))],
        [c.env.get("HMX_IMAGE")],
        "every container runs this checkout's own image",
      );
      const networks = c.objects("network");
      const volumes = c.objects("volume");
      assert.equal(volumes.length, 3, `${c.project}: guest-api, hypervisor-state, virtio-data`);
      // Every named volume a container mounts is one of this project's.
      for (const mounted of inspect("{{range .Mounts}}{{.Name}} {{end}}", containers))
        for (const v of mounted.split(" ").filter((n) => n !== ""))
          assert.ok(volumes.includes(v), `${c.project} mounts ${v}, not its own`);
      const hv = containers.find((n) => n.includes("hypervisor")) ?? "";
      const published = mustSucceed(
        "docker port",
        sh("docker", ["port", hv, "7071"], c.dir),
      ).trim();
      assert.equal(published, `127.0.0.1:${c.env.get("HMX_CONTROL_PORT")}`);
      for (const name of [...containers, ...networks, ...volumes, published]) {
        assert.equal(seen.get(name), undefined, `${name} belongs to both projects`);
        seen.set(name, c.project);
      }
    }
  });

  test("down -v --rmi all leaves nothing of either checkout on the Docker host", () => {
    for (const c of [a, b]) {
      c.down();
      for (const kind of ["container", "network", "volume"] as const)
        assert.deepEqual(c.objects(kind), [], `${c.project}: no ${kind} left`);
      for (const image of [c.env.get("HMX_IMAGE") ?? "", c.env.get("HMX_NODE_BASE") ?? ""])
        assert.ok(!imageExists(image), `${image} removed`);
    }
  });
});
