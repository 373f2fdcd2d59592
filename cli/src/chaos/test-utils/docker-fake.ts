// SPDX-License-Identifier: Apache-2.0
/**
 * A fake Docker Engine for the compose backend's unit tests: a project's containers as the
 * container list shows them, each recording the calls made on it, with a log and a published
 * port to read. In test-utils/, so it stays out of the container image (deploy/docker/stage.sh).
 */
import type {
  ContainerApi,
  ContainerDetails,
  ContainerSummary,
  DockerApi,
} from "../docker-fleet.js";

export interface FakeContainer {
  readonly id: string;
  readonly service: string;
  readonly number: number;
  running?: boolean;
  env?: string[];
  /** The container's log text (framed as a non-TTY container's when served). */
  log?: string;
  /** The host port the toolstack (7071) is published on. */
  port?: string;
  /** The host port the harness HTTP listener (7072) is published on. */
  httpPort?: string;
}

/** One Engine frame of stdout per line, as a non-TTY container's log is served. */
export function framed(text: string): Buffer {
  return Buffer.concat(
    text.split(/(?<=\n)/).map((line) => {
      const payload = Buffer.from(line);
      const header = Buffer.alloc(8);
      header[0] = 1;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    }),
  );
}

export class FakeDocker implements DockerApi {
  /** Every call made, as "id action" (with its argument when it has one). */
  readonly calls: string[] = [];
  /** Makes the next calls on a container fail with this Engine status. */
  failing: number | undefined;
  /** Makes this many next pauses fail as runc does when the freezer times out. */
  freezeFailures = 0;

  constructor(
    readonly project: string,
    readonly containers: FakeContainer[],
  ) {}

  listContainers(options: { all: true; filters: string }): Promise<ContainerSummary[]> {
    const wanted = (JSON.parse(options.filters) as { label: string[] }).label;
    const ok = wanted.includes(`com.docker.compose.project=${this.project}`);
    return Promise.resolve(
      (ok ? this.containers : []).map((c) => ({
        Id: c.id,
        Names: [`/${this.project}_${c.service}_${c.number}`],
        Labels: {
          "com.docker.compose.project": this.project,
          "com.docker.compose.service": c.service,
          "com.docker.compose.container-number": String(c.number),
        },
        State: c.running === false ? "exited" : "running",
      })),
    );
  }

  getContainer(id: string): ContainerApi {
    const c = this.containers.find((x) => x.id === id);
    if (c === undefined) throw new Error(`fake: no container ${id}`);
    const call = (what: string): Promise<unknown> => {
      this.calls.push(`${c.service}-${c.number} ${what}`);
      if (this.failing !== undefined)
        return Promise.reject(
          Object.assign(new Error(`(HTTP code ${this.failing}) fake`), {
            statusCode: this.failing,
          }),
        );
      return Promise.resolve(undefined);
    };
    const details: ContainerDetails = {
      Config: { Hostname: id.slice(0, 12), Env: c.env ?? [] },
      State: { Running: c.running !== false, Paused: false, Status: "running" },
      NetworkSettings: {
        Ports: {
          ...(c.port === undefined
            ? {}
            : { "7071/tcp": [{ HostIp: "127.0.0.1", HostPort: c.port }] }),
          ...(c.httpPort === undefined
            ? {}
            : { "7072/tcp": [{ HostIp: "127.0.0.1", HostPort: c.httpPort }] }),
        },
      },
    };
    return {
      inspect: () => Promise.resolve(details),
      kill: (o) => call(`kill ${o.signal}`),
      stop: (o) => call(`stop t=${o.t}`),
      start: () => call("start"),
      restart: (o) => call(`restart t=${o.t}`),
      pause: () => {
        if (this.freezeFailures === 0) return call("pause");
        this.freezeFailures--;
        this.calls.push(`${c.service}-${c.number} pause refused`);
        return Promise.reject(
          Object.assign(new Error("(HTTP code 500) server error - unable to freeze: unknown"), {
            statusCode: 500,
          }),
        );
      },
      unpause: () => call("unpause"),
      wait: (o) => call(`wait ${o.condition}`),
      logs: () => Promise.resolve(framed(c.log ?? "")),
    };
  }
}

/** A compose fleet as docker-compose.yml makes it, with two guests scaled. */
export function fakeFleet(): FakeDocker {
  return new FakeDocker("hmx-demo", [
    { id: "aaaaaaaaaaaa0000", service: "hypervisor", number: 1, port: "17071", httpPort: "32772" },
    { id: "0123456789ab0001", service: "guest", number: 1 },
    { id: "bbbbbbbbbbbb0002", service: "guest", number: 2 },
    { id: "cccccccccccc0003", service: "vbackend", number: 1, env: ["HMX_INSTANCE=vbackend"] },
  ]);
}
