// SPDX-License-Identifier: Apache-2.0
/**
 * The embedded default fleet of `hmx up`: one hypervisor process and guest-agent processes doing
 * real work — a ping client against an echo server, a numbered traffic stream into a sink that
 * proves nothing was lost, duplicated or reordered, and (unless `--no-virtio`) a VirtIO back end
 * serving disks, a network and consoles to front ends over Argo. Domains are created through the
 * toolstack like any harness would; each guest gets only its own credential, as a 0600 file in
 * the run's private directory (run-dir.ts), never in an environment variable.
 */
import { ToolstackClient, type DeviceSpecView, type DeviceTypeName } from "@hmx/client";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LogRecord } from "./child-process.js";
import { writeFleetStatus } from "./fleet-status.js";
import { DEFAULT_RESTART_POLICY, hypervisorAccepts, RestartingChild } from "./supervisor.js";
import { readUpPointer, RunDir } from "./run-dir.js";

/** A guest of the default fleet: its domain and the workload it runs. */
export interface GuestSpec {
  readonly name: string;
  readonly label: string;
  readonly workload: string;
  /**
   * Extra `hmx guest` flags; `{peer:NAME}` is replaced by that guest's domid, `{imageDir}` and
   * `{consoleDir}` by the fleet's virtio directories.
   */
  readonly args: readonly string[];
  /** VirtIO devices of the domain, served by the guest named `backend` (created before it). */
  readonly devices?: readonly {
    readonly type: DeviceTypeName;
    readonly backend: string;
    readonly capacityBytes?: number;
  }[];
}

/** The Flask policy the fleet runs under (docs/mac.md): allows exactly what the demo needs. */
export const DEFAULT_POLICY = fileURLToPath(
  new URL("../../../deploy/policy/default.te", import.meta.url),
);

export const DEFAULT_FLEET: readonly GuestSpec[] = [
  { name: "echo", label: "echo_t", workload: "echo", args: ["--port", "7"] },
  { name: "sink", label: "sink_t", workload: "sink", args: ["--port", "9"] },
  {
    name: "pinger",
    label: "client_t",
    workload: "ping",
    args: ["--peer", "{peer:echo}", "--port", "7", "--interval-ms", "100", "--size", "64"],
  },
  {
    name: "streamer",
    label: "client_t",
    workload: "traffic",
    args: ["--peer", "{peer:sink}", "--port", "9", "--rate", "2000", "--size", "256"],
  },
];

/** The policy rules the virtio guests add (deploy/policy/virtio.te, appended to default.te). */
export const VIRTIO_POLICY = fileURLToPath(
  new URL("../../../deploy/policy/virtio.te", import.meta.url),
);

const VIRTIO_DEVICES = [
  { type: "blk", backend: "vbackend", capacityBytes: 8 * 1024 * 1024 },
  { type: "net", backend: "vbackend" },
  { type: "console", backend: "vbackend" },
] as const;

/**
 * The virtio-argo guests `hmx up` runs unless `--no-virtio` (docs/virtio-argo.md): a driver domain hosting
 * every device, two front ends that use a disk, a NIC (vdemo2 pings vdemo1 through the back
 * end's switch) and a console, and a front end the policy forbids (its devices fail their probe
 * with -EACCES, and the hypervisor audits the denial). `hmx console vdemo1` shows a console.
 */
export const VIRTIO_FLEET: readonly GuestSpec[] = [
  {
    name: "vbackend",
    label: "vbackend_t",
    workload: "virtio-backend",
    args: ["--image-dir", "{imageDir}", "--console-dir", "{consoleDir}"],
  },
  {
    name: "vdemo1",
    label: "vdemo_t",
    workload: "virtio-demo",
    args: ["--interval-ms", "500"],
    devices: VIRTIO_DEVICES,
  },
  {
    name: "vdemo2",
    label: "vdemo_t",
    workload: "virtio-demo",
    args: ["--peer", "{peer:vdemo1}", "--interval-ms", "500"],
    devices: VIRTIO_DEVICES,
  },
  {
    name: "vrogue",
    label: "vrogue_t",
    workload: "virtio-demo",
    args: ["--interval-ms", "2000"],
    devices: [{ type: "blk", backend: "vbackend" }],
  },
];

/**
 * The console directory `hmx console` reads by default: `HMX_CONSOLE_DIR`, else that of the
 * `hmx up` running from this checkout (its pointer file), else undefined.
 */
export function defaultConsoleDir(): string | undefined {
  const fromEnv = process.env["HMX_CONSOLE_DIR"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return readUpPointer()?.consoleDir;
}

export interface GuestState {
  readonly spec: GuestSpec;
  readonly domid: number;
  readonly child: RestartingChild;
  /** The latest "guest stats" record the guest logged. */
  stats: Record<string, unknown> | undefined;
  ready: boolean;
}

export interface FleetEvent {
  readonly at: number;
  readonly source: string;
  readonly text: string;
}

export interface FleetOptions {
  readonly macPermissive: boolean;
  readonly domainMemoryBytes: number;
  readonly guestStatsIntervalMs: number;
  /** Add the virtio-argo guests (VIRTIO_FLEET). */
  readonly virtio?: boolean;
  /** Restart a guest that exits (chaos process faults) instead of reporting it as failed. */
  readonly restartGuests?: boolean;
  /** Relay each guest's link through the hypervisor's link-fault layer (chaos link faults). */
  readonly linkFaults?: boolean;
}

const READY_TIMEOUT_MS = 20_000;

export class Fleet {
  readonly events: FleetEvent[] = [];
  readonly guests: GuestState[] = [];
  /** Restarted when it dies, on the same ports and with its state dir (supervisor.ts). */
  hypervisor: RestartingChild | undefined;
  listen = "";
  controlListen = "";
  /** The harness HTTP listener (docs/harness.md): metrics and the history. */
  httpListen = "";
  toolstack: ToolstackClient | undefined;
  private readonly adminToken = randomBytes(32).toString("base64url");
  /** Everything this run writes (secrets, combined policy, disk images, consoles); `stop` removes it. */
  readonly runDir = new RunDir();
  /** Where the virtio back end writes consoles: `HMX_CONSOLE_DIR` if set, else inside the run. */
  readonly consoleDir =
    process.env["HMX_CONSOLE_DIR"] !== undefined && process.env["HMX_CONSOLE_DIR"] !== ""
      ? process.env["HMX_CONSOLE_DIR"]
      : join(this.runDir.path, "console");

  /** The guests this fleet runs. */
  get specs(): readonly GuestSpec[] {
    return this.options.virtio === true ? [...DEFAULT_FLEET, ...VIRTIO_FLEET] : DEFAULT_FLEET;
  }

  constructor(private readonly options: FleetOptions) {}

  private note(source: string, text: string): void {
    this.events.push({ at: Date.now(), source, text });
    if (this.events.length > 200) this.events.splice(0, this.events.length - 200);
  }

  /** Records warnings and errors a child logged, for the dashboard's event panel. */
  private observe(source: string, record: LogRecord): void {
    if (typeof record.level === "number" && record.level >= 40) {
      const err = record["err"] as { message?: string } | undefined;
      this.note(
        source,
        `${record.msg ?? ""}${err?.message !== undefined ? `: ${err.message}` : ""}`,
      );
    }
  }

  async start(): Promise<void> {
    let policy = DEFAULT_POLICY;
    if (this.options.virtio === true) {
      // One policy file: the demo's rules plus the virtio guests' (docs/virtio-argo.md "MAC").
      policy = join(this.runDir.path, "fleet.te");
      writeFileSync(
        policy,
        `${readFileSync(DEFAULT_POLICY, "utf8")}\n${readFileSync(VIRTIO_POLICY, "utf8")}`,
      );
    }
    const args = [
      "hypervisor",
      "--listen",
      "127.0.0.1:0",
      "--control-listen",
      "127.0.0.1:0",
      // The history records from boot (its window is bounded), so `hmx history` run later
      // still sees the run from its first domain.
      "--http-listen",
      "127.0.0.1:0",
      "--history-from-boot",
      "--policy",
      policy,
      "--admin-token-file",
      this.runDir.writeSecret("admin-token", this.adminToken),
    ];
    if (this.options.macPermissive) args.push("--argo-mac-permissive");
    if (this.options.linkFaults === true) args.push("--link-faults");
    // A restarted hypervisor resumes every domain from here (docs/state.md), so guests carry on.
    if (hypervisorAccepts("--state-dir")) args.push("--state-dir", join(this.runDir.path, "state"));
    const ready = new Promise<LogRecord>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the hypervisor did not report ready within ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      this.hypervisor = new RestartingChild("hypervisor", args, {}, "hypervisor ready", {
        onRecord: (record) => {
          if (record.msg === "hypervisor ready") {
            clearTimeout(timer);
            resolve(record);
            if (this.hypervisor?.restarts !== undefined && this.hypervisor.restarts > 0) {
              this.note("hmx up", `hypervisor restarted (${this.hypervisor.restarts})`);
              this.publishStatus();
            }
          }
          this.observe("hypervisor", record);
        },
        onText: (line) => {
          this.note("hypervisor", line);
        },
        onExit: ({ reason, delayMs }) => {
          this.note(
            "hmx up",
            delayMs === undefined
              ? `hypervisor exited (${reason}) and could not be started again: giving up`
              : `hypervisor exited (${reason}); restarting it in ${delayMs} ms`,
          );
        },
      });
      void this.hypervisor.current.exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`the hypervisor exited during start-up (code ${code})`));
      });
    });
    const record = await ready;
    this.listen = String(record["listen"]);
    this.controlListen = String(record["controlListen"]);
    this.httpListen = String(record["httpListen"]);
    this.toolstack = new ToolstackClient(this.controlListen, this.adminToken);
    this.runDir.publish({
      consoleDir: this.consoleDir,
      control: this.controlListen,
      httpListen: this.httpListen,
      adminTokenFile: this.runDir.secretPath("admin-token"),
    });
    this.note("hmx up", `hypervisor ready on ${this.listen} (toolstack ${this.controlListen})`);

    const domids = new Map<string, number>();
    const created: { spec: GuestSpec; domid: number; credential: string }[] = [];
    for (const spec of this.specs) {
      // Back ends come first in the list, so their domids exist when a front end names them.
      const devices: DeviceSpecView[] = (spec.devices ?? []).map((d) => ({
        type: d.type,
        backendDomid: domids.get(d.backend) ?? 0,
        ...(d.capacityBytes === undefined ? {} : { capacityBytes: d.capacityBytes }),
      }));
      const { domid, credential } = await this.toolstack.createDomain({
        name: spec.name,
        label: spec.label,
        memoryBytes: this.options.domainMemoryBytes,
        devices,
      });
      domids.set(spec.name, domid);
      created.push({ spec, domid, credential });
    }
    for (const { spec, domid, credential } of created) {
      const args = spec.args.map((a) =>
        a
          .replace(/^\{peer:(.+)\}$/, (_, peer: string) => String(domids.get(peer)))
          .replace("{imageDir}", join(this.runDir.path, "images"))
          .replace("{consoleDir}", this.consoleDir),
      );
      // A guest killed or crashed is restarted (a chaos process fault, docs/chaos.md) and resumes
      // its domain from its state dir: its rings, and its workload's progress in guest memory.
      const state: GuestState = {
        spec,
        domid,
        stats: undefined,
        ready: false,
        child: new RestartingChild(
          spec.name,
          [
            "guest",
            "--hypervisor",
            this.listen,
            "--workload",
            spec.workload,
            "--stats-interval-ms",
            String(this.options.guestStatsIntervalMs),
            "--credential-file",
            this.runDir.writeSecret(`${spec.name}.credential`, credential),
            "--state-dir",
            this.runDir.dir(join("guest-state", spec.name)),
            ...args,
          ],
          {},
          "guest ready",
          {
            onRecord: (rec) => {
              if (rec.msg === "guest stats") state.stats = rec;
              else if (rec.msg === "guest ready") state.ready = true;
              if (rec.msg === "guest stats" || rec.msg === "guest ready") this.publishStatus();
              this.observe(spec.name, rec);
            },
            onText: (line) => {
              this.note(spec.name, line);
            },
            onExit: ({ reason, delayMs }) => {
              this.note(
                spec.name,
                `guest exited (${reason})${delayMs === undefined ? "" : `; restarting it in ${delayMs} ms`}`,
              );
            },
          },
          // Without --restart-guests a guest that exits stays down and fails the run's checks.
          this.options.restartGuests === true
            ? DEFAULT_RESTART_POLICY
            : { ...DEFAULT_RESTART_POLICY, maxRestarts: 0 },
        ),
      };
      this.guests.push(state);
    }
    this.publishStatus();
  }

  /** Rewrites RUNDIR/fleet.json: the pids `hmx chaos kill` signals, the sinks' figures. */
  private publishStatus(): void {
    // After stop() removed the run directory there is nobody left to read it.
    if (!existsSync(this.runDir.path)) return;
    writeFleetStatus(this.runDir.path, {
      restartGuests: this.options.restartGuests === true,
      hypervisor: {
        pid: this.hypervisor?.current.process.pid,
        restarts: this.hypervisor?.restarts ?? 0,
      },
      guests: this.guests.map((g) => ({
        name: g.spec.name,
        workload: g.spec.workload,
        pid: g.child.current.process.pid,
        restarts: g.child.restarts,
        stats: g.stats,
      })),
    });
  }

  /** Stops the guests first (they unregister their rings), then the hypervisor. */
  async stop(): Promise<void> {
    await Promise.all(this.guests.map((g) => g.child.stop()));
    this.toolstack?.close();
    await this.hypervisor?.stop();
    this.runDir.remove();
  }
}
