// SPDX-License-Identifier: Apache-2.0
/**
 * The compose fleet's containers, through the Docker Engine API (dockerode; never the docker
 * CLI): found by Compose's labels (`com.docker.compose.project` and `.service`), named the way
 * a user names them, and read for what the process-fault backend and `hmx chaos run` need —
 * the hypervisor's published toolstack and history ports and each fleet guest's last "guest
 * stats" record.
 *
 * A container is found by its service and number (`guest-2`, `hypervisor`, `vbackend`), by its
 * full container name, or by the name of the domain it runs: a guest enrols as
 * `TEMPLATE-INSTANCE`, the instance being `HMX_INSTANCE` or else its host name, which Docker sets
 * to the first 12 hex digits of the container's id. So a schedule's generators, which draw
 * domain names from the hypervisor, reach the container behind each domain.
 */
import Docker from "dockerode";

import { receiverFigures, type ReceiverFigures } from "./delivery-checks.js";

const PROJECT_LABEL = "com.docker.compose.project";
const SERVICE_LABEL = "com.docker.compose.service";
const NUMBER_LABEL = "com.docker.compose.container-number";

/** What `inspect` tells us of a container (a subset of the Engine API's answer). */
export interface ContainerDetails {
  readonly Config: { readonly Hostname: string; readonly Env: readonly string[] | null };
  readonly State: { readonly Running: boolean; readonly Paused: boolean; readonly Status: string };
  readonly NetworkSettings: {
    readonly Ports: Readonly<
      Record<string, readonly { readonly HostIp: string; readonly HostPort: string }[] | null>
    > | null;
  };
}

/** The calls made on one container: dockerode's Container, or a fake in unit tests. */
export interface ContainerApi {
  inspect(): Promise<ContainerDetails>;
  kill(options: { signal: string }): Promise<unknown>;
  stop(options: { t: number }): Promise<unknown>;
  start(): Promise<unknown>;
  restart(options: { t: number }): Promise<unknown>;
  pause(): Promise<unknown>;
  unpause(): Promise<unknown>;
  wait(options: { condition: "not-running" }): Promise<unknown>;
  logs(options: { stdout: true; stderr: true; tail: number; follow: false }): Promise<Buffer>;
}

/** One container of a compose project, as the container list shows it. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Names: readonly string[];
  readonly Labels: Readonly<Record<string, string>>;
  readonly State: string;
}

/** The calls made on the Engine: dockerode's Docker, or a fake in unit tests. */
export interface DockerApi {
  listContainers(options: { all: true; filters: string }): Promise<ContainerSummary[]>;
  getContainer(id: string): ContainerApi;
}

/** The Engine this machine's Docker clients use: `DOCKER_HOST`, else the local socket. */
export function localDocker(): DockerApi {
  return new Docker();
}

/** Where dockerode connects, for "Docker is unreachable" messages. */
function dockerAddress(env: Readonly<Record<string, string | undefined>>): string {
  const host = env["DOCKER_HOST"] ?? "";
  return host === "" ? "unix:///var/run/docker.sock" : host;
}

/** An error from the Engine's transport (no daemon, no socket, no permission), or undefined. */
function unreachable(
  err: unknown,
  env: Readonly<Record<string, string | undefined>>,
): Error | undefined {
  const code = (err as { code?: unknown }).code;
  if (
    typeof code !== "string" ||
    !["ECONNREFUSED", "ENOENT", "EACCES", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET"].includes(code)
  )
    return undefined;
  return new Error(
    `Docker is unreachable at ${dockerAddress(env)} (${code}): is the Docker daemon running and may this user use it?`,
  );
}

/** A container of the project with the names it answers to. */
export interface FleetContainer {
  readonly id: string;
  /** The container's name, as Compose made it (`P_guest_2` with v1, `P-guest-2` with v2). */
  readonly name: string;
  readonly service: string;
  /** `guest-2`; the service alone for a service's first container too (`hypervisor`). */
  readonly shortName: string;
  readonly running: boolean;
}

/**
 * Non-TTY container logs come as frames: one byte naming the stream, three zero bytes, a 4-byte
 * big-endian length, then that many bytes. A TTY container's logs are the raw text.
 */
export function demuxLogs(buffer: Buffer): string {
  const framed =
    buffer.length >= 8 && (buffer[0] === 1 || buffer[0] === 2) && buffer.readUIntBE(1, 3) === 0;
  if (!framed) return buffer.toString("utf8");
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** The last JSON log record with this `msg` in a log's text, or undefined. */
export function lastRecord(text: string, msg: string): Record<string, unknown> | undefined {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    const start = line.indexOf("{");
    if (start < 0 || !line.includes(msg)) continue;
    try {
      const record = JSON.parse(line.slice(start)) as Record<string, unknown>;
      if (record["msg"] === msg) return record;
    } catch {
      // A line cut by the tail, or not JSON.
    }
  }
  return undefined;
}

/** How many log lines are read for a guest's last stats record (one is written each second). */
const STATS_TAIL_LINES = 400;

/** One compose project's containers on one Docker Engine. */
export class ComposeFleet {
  /** Inspect answers by container id: a container keeps its host name and env across restarts. */
  readonly #details = new Map<string, ContainerDetails>();

  constructor(
    readonly project: string,
    private readonly docker: DockerApi = localDocker(),
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
  ) {}

  /** Runs Engine calls, naming an unreachable Engine as such. */
  async engine<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw unreachable(err, this.env) ?? err;
    }
  }

  /** Every container of the project, running or not, in service and number order. */
  async containers(): Promise<FleetContainer[]> {
    const list = await this.engine(() =>
      this.docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${this.project}`] }),
      }),
    );
    return list
      .map((c) => {
        const service = c.Labels[SERVICE_LABEL] ?? "";
        const number = Number(c.Labels[NUMBER_LABEL] ?? "1");
        return {
          id: c.Id,
          name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
          service,
          shortName: `${service}-${number}`,
          running: c.State === "running",
          number,
        };
      })
      .sort((a, b) => a.service.localeCompare(b.service) || a.number - b.number)
      .map(({ number: _number, ...c }) => c);
  }

  /** Every container, or an error naming the project when it has none. */
  async #nonEmpty(): Promise<FleetContainer[]> {
    const all = await this.containers();
    if (all.length === 0)
      throw new Error(
        `no container of compose project ${JSON.stringify(this.project)} on ${dockerAddress(this.env)} (is the fleet up? choose another project with --project or COMPOSE_PROJECT_NAME)`,
      );
    return all;
  }

  async details(id: string): Promise<ContainerDetails> {
    const known = this.#details.get(id);
    if (known !== undefined) return known;
    const details = await this.engine(() => this.docker.getContainer(id).inspect());
    this.#details.set(id, details);
    return details;
  }

  /** The instance name a container's guest enrols with (config.ts: HMX_INSTANCE or host name). */
  async #instance(c: FleetContainer): Promise<string> {
    const { Config } = await this.details(c.id);
    const fromEnv = (Config.Env ?? []).find((e) => e.startsWith("HMX_INSTANCE="));
    const instance = fromEnv?.slice("HMX_INSTANCE=".length) ?? "";
    return instance === "" ? Config.Hostname : instance;
  }

  /**
   * The container `target` names: `hypervisor`, a service and number (`guest-2`; the service
   * alone for its first container), a container name, or a domain name (`guest-0123456789ab`).
   * An error names the target, the project and the containers there are.
   */
  async find(target: string): Promise<FleetContainer & { readonly api: ContainerApi }> {
    const all = await this.#nonEmpty();
    const byName = all.find(
      (c) =>
        c.name === target ||
        c.shortName === target ||
        (c.service === target && c.shortName === `${target}-1`),
    );
    let found = byName;
    for (const c of all) {
      if (found !== undefined) break;
      const instance = await this.#instance(c);
      if (target.endsWith(`-${instance}`)) found = c;
    }
    if (found === undefined)
      throw new Error(
        `no container ${JSON.stringify(target)} in compose project ${JSON.stringify(this.project)} (containers: ${all.map((c) => c.shortName).join(", ")}; a guest is also found by its domain's name)`,
      );
    return { ...found, api: this.docker.getContainer(found.id) };
  }

  /** The host address the hypervisor's toolstack port (7071) is published on, if it is. */
  controlAddress(): Promise<string | undefined> {
    return this.#published(7071);
  }

  /**
   * The host address the hypervisor's harness HTTP listener (7072: its history, for the MAC
   * check) is published on, if it is. docker-compose.yml lets Docker pick the host port.
   */
  historyAddress(): Promise<string | undefined> {
    return this.#published(7072);
  }

  /** The host address the hypervisor container's `port`/tcp is published on, if it is. */
  async #published(port: number): Promise<string | undefined> {
    const hypervisor = await this.find("hypervisor");
    const ports = (await this.engine(() => hypervisor.api.inspect())).NetworkSettings.Ports;
    const binding = ports?.[`${port}/tcp`]?.[0];
    if (binding === undefined) return undefined;
    const host =
      binding.HostIp === "" || binding.HostIp === "0.0.0.0" ? "127.0.0.1" : binding.HostIp;
    return `${host}:${binding.HostPort}`;
  }

  /**
   * Each container's last "guest stats" record that carries a receiver's figures (the fleet
   * workload's checker: received, lost, duplicates, reordered), named by its short name. The
   * record comes from the container's log through the Engine, whichever run of the container
   * wrote it (a container that is down still counts with its last figures); how the workload
   * counts across a restart is the workload's business.
   */
  async receivers(): Promise<ReceiverFigures[]> {
    const out: ReceiverFigures[] = [];
    for (const c of await this.#nonEmpty()) {
      const buffer = await this.engine(() =>
        this.docker
          .getContainer(c.id)
          .logs({ stdout: true, stderr: true, tail: STATS_TAIL_LINES, follow: false }),
      );
      const figures = receiverFigures(c.shortName, lastRecord(demuxLogs(buffer), "guest stats"));
      if (figures !== undefined) out.push(figures);
    }
    return out;
  }
}
