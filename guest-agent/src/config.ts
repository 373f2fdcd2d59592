// SPDX-License-Identifier: Apache-2.0
/**
 * The guest agent's configuration: `hmx guest` flags, then `HMX_*` environment variables, then
 * per-workload defaults (DESIGN.md §3.1). `parseGuestConfig` parses with `node:util` `parseArgs`
 * in strict mode and reports every problem at once, each naming the flag and the bad value, in
 * one `ConfigError` (the CLI exits 2 on it). The guest's identity is either a domain credential
 * (`--credential-file` / `HMX_DOMAIN_CREDENTIAL`) or an enrolment token (`--enrolment-token-file`
 * / `HMX_ENROLMENT_TOKEN`) with an instance name; neither is ever part of a message or a log line.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { DOMID_MAX, MAX_ARGO_MESSAGE_SIZE } from "@hmx/proto/abi";
import { NUMBERED_HEADER_SIZE } from "./workloads/common.js";
import {
  parseTunnelFlags,
  TUNNEL_FLAGS,
  WORKLOAD_NAMES,
  type TunnelSpec,
  type WorkloadName,
} from "./workloads/index.js";

export interface GuestConfig {
  /** The hypervisor's guest-facing address, "host:port" or "unix:/path". */
  readonly hypervisor: string;
  /** The domain credential ("" when enrolling); never logged. */
  readonly credential: string;
  /** An enrolment token, used when there is no credential; never logged. */
  readonly enrolmentToken: string | undefined;
  /** The instance name to enrol as (default: the host name, i.e. the container's). */
  readonly instance: string;
  /** Where the agent keeps its credential across restarts (enrolment), if anywhere. */
  readonly stateDir: string | undefined;
  /** A file rewritten every few seconds with the session state, for container health checks. */
  readonly healthFile: string | undefined;
  /**
   * How long the hypervisor may stay unreachable — at start or after the link drops — before
   * the guest gives up (ms); `Infinity` (the default) waits for it however long it restarts.
   */
  readonly reconnectTimeoutMs?: number;
  readonly workload: WorkloadName;
  /** echo / sink: the port to bind; ping / traffic: the peer's port. */
  readonly port: number;
  /** ping / traffic: the peer domid (required); echo / sink: the only sender allowed (optional). */
  readonly peer: number | undefined;
  /** ping / traffic payload bytes. */
  readonly size: number;
  /** ping / traffic / sink: messages, 0 = until stopped. */
  readonly count: number;
  /** traffic: messages per second, 0 = as fast as possible. */
  readonly rate: number;
  /** ping: pause between pings. */
  readonly intervalMs: number;
  /** ping: how long to wait for each reply before counting it lost. */
  readonly timeoutMs?: number;
  /** How often a "guest stats" line is logged. */
  readonly statsIntervalMs: number;
  /** virtio-backend: directory of the raw disk images (created on demand). */
  readonly imageDir?: string;
  /** virtio-backend: directory of the per-guest console logs and input files. */
  readonly consoleDir?: string;
  readonly logLevel: string;
  /** tunnel: what to listen on and where to carry it. */
  readonly tunnel?: TunnelSpec;
}

/** Bad usage; lists every problem. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

export const GUEST_USAGE = `usage: hmx guest --hypervisor ADDRESS (--credential-file FILE | --enrolment-token-file FILE) --workload NAME [options]

  --hypervisor ADDRESS       the hypervisor's guest-facing address, HOST:PORT or unix:/PATH (env HMX_HYPERVISOR)
  --credential-file FILE     file holding this domain's credential (or env HMX_DOMAIN_CREDENTIAL)
  --enrolment-token-file F   enrol with a template's token instead (or env HMX_ENROLMENT_TOKEN)
  --instance NAME            the name to enrol as (env HMX_INSTANCE; default the host name)
  --state-dir DIR            keep the enrolled credential and instance secret here, to resume the domain after a restart (env HMX_STATE_DIR)
  --health-file FILE         rewrite FILE every 2 s with the session state, for health checks (env HMX_HEALTH_FILE)
  --reconnect-timeout S      give up (exit 1) once the hypervisor stayed unreachable this many seconds, at start
                             or after the link dropped; 0 = never (env HMX_RECONNECT_TIMEOUT; default 0)
  --workload NAME            echo | ping | traffic | sink | fleet | virtio-backend | virtio-demo | tunnel
  --port N                   echo/sink: port to bind (default 7 echo, 9 sink);
                             ping/traffic: the peer's port (default 7 ping, 9 traffic)
  --peer DOMID               ping/traffic: the peer (required); echo/sink: accept only this sender
                             (without it the ring is a wildcard ring: needs --argo-mac-permissive);
                             virtio-demo: the guest to ping over virtio-net (optional)
  --image-dir DIR            virtio-backend: raw disk images, created on demand (env HMX_IMAGE_DIR; default ./hmx-images)
  --console-dir DIR          virtio-backend: per-guest console logs for 'hmx console' (env HMX_CONSOLE_DIR)
  --listen ADDR              tunnel entry: accept local connections on tcp:HOST:PORT or unix:/PATH ...
  --to PEER:APORT            ... and carry each over an Argo stream to PEER (domid or name), port APORT
  --serve APORT              tunnel exit: accept Argo streams on APORT (--peer: only from that domain) ...
  --connect ADDR             ... and connect each onward to tcp:HOST:PORT or unix:/PATH
  --max-connections N        tunnel: most connections at once, 1..100 (default 64)
  --size N                   ping/traffic payload bytes, >= ${NUMBERED_HEADER_SIZE} (default 64)
  --count N                  ping/traffic/sink: messages, 0 = until stopped (default 0)
  --rate N                   traffic: messages per second, 0 = as fast as possible (default 100);
                             fleet: messages per second to each peer (default 20)
  --interval-ms N            ping: pause between pings; virtio-demo: between rounds (default 1000)
  --timeout-ms N             ping: wait this long for each reply before counting it lost (default 1000)
  --stats-interval-ms N      how often to log a "guest stats" line (default 1000)
  --log-level LEVEL          trace|debug|info|warn|error|fatal|silent (env HMX_LOG_LEVEL; default info)
  -h, --help                 show this help`;

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Which workloads each workload-specific flag applies to. */
const APPLIES: Record<string, readonly WorkloadName[]> = {
  size: ["ping", "traffic", "fleet"],
  count: ["ping", "traffic", "sink", "virtio-demo"],
  rate: ["traffic", "fleet"],
  "interval-ms": ["ping", "virtio-demo"],
  "timeout-ms": ["ping"],
  "image-dir": ["virtio-backend"],
  "console-dir": ["virtio-backend"],
  ...Object.fromEntries(TUNNEL_FLAGS.map((f) => [f, ["tunnel"] as const])),
};

const DEFAULT_PORT: Record<WorkloadName, number> = {
  echo: 7,
  ping: 7,
  traffic: 9,
  sink: 9,
  fleet: 9,
  "virtio-backend": 1,
  "virtio-demo": 1,
  tunnel: 1,
};

function isHostPort(value: string): boolean {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}

function isAddress(value: string): boolean {
  return isHostPort(value) || /^unix:\/[^\0]+$/.test(value);
}

/**
 * Parses `hmx guest` arguments (without the `guest` word) and the environment. Returns "help"
 * for -h/--help; throws `ConfigError` listing every problem.
 */
export function parseGuestConfig(input: {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile?: (path: string) => string;
}): GuestConfig | "help" {
  const { env } = input;
  const readFile = input.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...input.argv],
      strict: true,
      allowPositionals: false,
      options: {
        hypervisor: { type: "string" },
        "credential-file": { type: "string" },
        "enrolment-token-file": { type: "string" },
        instance: { type: "string" },
        "state-dir": { type: "string" },
        "health-file": { type: "string" },
        "reconnect-timeout": { type: "string" },
        workload: { type: "string" },
        port: { type: "string" },
        peer: { type: "string" },
        size: { type: "string" },
        count: { type: "string" },
        rate: { type: "string" },
        "interval-ms": { type: "string" },
        "timeout-ms": { type: "string" },
        "stats-interval-ms": { type: "string" },
        "image-dir": { type: "string" },
        "console-dir": { type: "string" },
        "log-level": { type: "string" },
        ...Object.fromEntries(TUNNEL_FLAGS.map((f) => [f, { type: "string" as const }])),
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    // parseArgs names the offending flag or positional itself.
    throw new ConfigError([err instanceof Error ? err.message : String(err)]);
  }
  if (values["help"] === true) return "help";
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === "string" ? v : undefined;
  };
  const problems: string[] = [];

  const hypervisor = str("hypervisor") ?? env["HMX_HYPERVISOR"];
  if (hypervisor === undefined || hypervisor === "") {
    problems.push("--hypervisor HOST:PORT (or HMX_HYPERVISOR) is required");
  } else if (!isAddress(hypervisor)) {
    problems.push(
      `--hypervisor: "${hypervisor}" is not HOST:PORT with a port in 1..65535, nor unix:/PATH`,
    );
  }

  const readSecret = (flag: string, path: string): string => {
    try {
      const value = readFile(path).trim();
      if (value === "") problems.push(`--${flag}: "${path}" is empty`);
      return value;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
      problems.push(`--${flag}: cannot read "${path}" (${code})`);
      return "";
    }
  };
  const credentialFile = str("credential-file");
  const credential =
    credentialFile !== undefined
      ? readSecret("credential-file", credentialFile)
      : (env["HMX_DOMAIN_CREDENTIAL"] ?? "").trim();
  const tokenFile = str("enrolment-token-file");
  const enrolmentToken =
    (tokenFile !== undefined
      ? readSecret("enrolment-token-file", tokenFile)
      : (env["HMX_ENROLMENT_TOKEN"] ?? "").trim()) || undefined;
  if (
    credential === "" &&
    enrolmentToken === undefined &&
    credentialFile === undefined &&
    tokenFile === undefined
  ) {
    problems.push(
      "a domain credential (--credential-file FILE or HMX_DOMAIN_CREDENTIAL) or an enrolment token (--enrolment-token-file FILE or HMX_ENROLMENT_TOKEN) is required",
    );
  }
  const fromEnv = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === "" ? undefined : v;
  };
  const instance = str("instance") ?? fromEnv("HMX_INSTANCE") ?? hostname();
  if (!/^[A-Za-z0-9._-]{1,48}$/.test(instance)) {
    problems.push(
      `--instance: "${instance.slice(0, 80)}" must be 1..48 characters of [A-Za-z0-9._-]`,
    );
  }
  const stateDir = str("state-dir") ?? fromEnv("HMX_STATE_DIR");
  const healthFile = str("health-file") ?? fromEnv("HMX_HEALTH_FILE");
  const reconnectTimeoutRaw = str("reconnect-timeout") ?? fromEnv("HMX_RECONNECT_TIMEOUT") ?? "0";
  const reconnectTimeoutS = /^\d{1,7}$/.test(reconnectTimeoutRaw)
    ? Number(reconnectTimeoutRaw)
    : -1;
  if (reconnectTimeoutS < 0) {
    problems.push(
      `--reconnect-timeout: "${reconnectTimeoutRaw.slice(0, 80)}" is not a whole number of seconds in [0, 9999999] (0 = never give up)`,
    );
  }
  // 0 (the default) never gives up: a guest outlives a hypervisor restart however long it takes.
  const reconnectTimeoutMs =
    reconnectTimeoutS > 0 ? reconnectTimeoutS * 1000 : Number.POSITIVE_INFINITY;

  const workloadRaw = str("workload");
  let workload: WorkloadName | undefined;
  if (workloadRaw === undefined)
    problems.push(`--workload is required (${WORKLOAD_NAMES.join(", ")})`);
  else if ((WORKLOAD_NAMES as readonly string[]).includes(workloadRaw))
    workload = workloadRaw as WorkloadName;
  else problems.push(`--workload: "${workloadRaw}" is not one of ${WORKLOAD_NAMES.join(", ")}`);

  const int = (flag: string, min: number, max: number, fallback: number): number => {
    const raw = str(flag);
    if (raw === undefined) return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`--${flag}: "${raw}" is not an integer in [${min}, ${max}]`);
      return fallback;
    }
    return n;
  };

  const port = int("port", 1, 0xffffffff, workload === undefined ? 0 : DEFAULT_PORT[workload]);
  const peerRaw = str("peer");
  const peer = peerRaw === undefined ? undefined : int("peer", 1, DOMID_MAX, 0);
  const size = int("size", NUMBERED_HEADER_SIZE, MAX_ARGO_MESSAGE_SIZE, 64);
  const count = int("count", 0, Number.MAX_SAFE_INTEGER, 0);
  const rate = int(
    "rate",
    workload === "fleet" ? 1 : 0,
    10_000_000,
    workload === "fleet" ? 20 : 100,
  );
  const intervalMs = int("interval-ms", 0, 3_600_000, 1000);
  const timeoutMs = int("timeout-ms", 1, 3_600_000, 1000);
  const statsIntervalMs = int("stats-interval-ms", 100, 3_600_000, 1000);

  const logLevel = str("log-level") ?? env["HMX_LOG_LEVEL"] ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(", ")}`);
  }

  if (workload !== undefined) {
    for (const [flag, workloads] of Object.entries(APPLIES)) {
      if (str(flag) !== undefined && !workloads.includes(workload)) {
        problems.push(
          `--${flag}: does not apply to the ${workload} workload (only ${workloads.join(", ")})`,
        );
      }
    }
    if ((workload === "ping" || workload === "traffic") && peerRaw === undefined) {
      problems.push(`--peer DOMID is required for the ${workload} workload`);
    }
  }

  const imageDir =
    workload === "virtio-backend"
      ? (str("image-dir") ?? fromEnv("HMX_IMAGE_DIR") ?? "hmx-images")
      : undefined;
  const consoleDir =
    workload === "virtio-backend" ? (str("console-dir") ?? fromEnv("HMX_CONSOLE_DIR")) : undefined;

  const tunnel =
    workload === "tunnel"
      ? parseTunnelFlags(
          {
            listen: str("listen"),
            to: str("to"),
            serve: str("serve"),
            connect: str("connect"),
            maxConnections: str("max-connections"),
          },
          problems,
        )
      : undefined;

  if (problems.length > 0 || workload === undefined || hypervisor === undefined) {
    throw new ConfigError(problems);
  }
  return {
    hypervisor,
    credential,
    enrolmentToken,
    instance,
    stateDir,
    healthFile,
    reconnectTimeoutMs,
    workload,
    port,
    peer,
    size,
    count,
    rate,
    intervalMs,
    timeoutMs,
    statsIntervalMs,
    logLevel,
    ...(imageDir === undefined ? {} : { imageDir }),
    ...(consoleDir === undefined ? {} : { consoleDir }),
    ...(tunnel === undefined ? {} : { tunnel }),
  };
}

/** The config as it may be logged: the credential replaced. */
export function redactedConfig(config: GuestConfig): GuestConfig {
  return {
    ...config,
    credential: config.credential === "" ? "" : "[redacted]",
    enrolmentToken: config.enrolmentToken === undefined ? undefined : "[redacted]",
  };
}
