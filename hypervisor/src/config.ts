// SPDX-License-Identifier: Apache-2.0
/**
 * The hypervisor's configuration: `hmx hypervisor` flags, then `HMX_*` environment variables,
 * then defaults. `parseHypervisorConfig` is pure and reports every problem at once, naming the
 * flag and the bad value, so the CLI can exit 2 with one clear message.
 */
import { MAX_GRPC_MESSAGE_BYTES, parseHostPort } from "@hmx/proto";
import { readFileSync } from "node:fs";
import type { AdmissionLimits } from "./grpc/admission.js";
import type { DomainTemplate } from "./fleet/enrolment.js";
import type { EnrolmentDeviceRule, EnrolmentDeviceType } from "./fleet/enrolment-devices.js";
import { parseArgs } from "node:util";
import { randomSeed } from "./faults/seeded-random.js";

import type { FirewallVerdict } from "./mac/firewall.js";
import type { FlaskMode } from "./mac/mac-controller.js";
import { formatDiagnostic } from "./mac/policy-parser.js";
import { compilePolicy } from "./mac/policy.js";
import { XSM_MODULE_NAMES, type XsmModuleName } from "./mac/xsm-module.js";

/** A policy file as read at boot. */
export interface PolicySource {
  readonly fileName: string;
  readonly source: string;
}

export interface HypervisorConfig {
  /**
   * Guest-facing gRPC listener (`hmx.argo.v1.Hypervisor`): "host:port" (port 0 picks one) or
   * "unix:/path" — a Unix socket lets container guests reach the hypervisor with no network.
   */
  readonly listen: string;
  /** Toolstack listener (`hmx.toolstack.v1.Toolstack`), loopback by default. */
  readonly controlListen: string;
  /** The toolstack's bearer token; never logged. */
  readonly adminToken: string;
  /** `--argo` / `--no-argo`: off makes every Argo hypercall -EOPNOTSUPP. */
  readonly argoEnabled: boolean;
  /** `--argo-mac-permissive`: allow wildcard rings (Xen's `argo=mac-permissive`). */
  readonly argoMacPermissive: boolean;
  /**
   * The guest memory of all live domains together: each domain reserves its whole size from it
   * at creation (docs/memory-accounting.md); a domain that does not fit is refused.
   */
  readonly maxTotalMemoryBytes: number;
  /** Largest memory one domain may be created with. */
  readonly maxDomainMemoryBytes: number;
  /** Unacknowledged results kept per domain for at-most-once resume. */
  readonly resumeWindow: number;
  /** ReadMemory bytes kept per domain in the resume log (`--resume-log-bytes`). */
  readonly resumeLogMaxBytes: number;
  /**
   * `--domain-held-bytes`: result bytes the service may hold for one domain (unsent results,
   * replies in flight, its resume log) before it stops running the domain's calls.
   */
  readonly domainHeldBytes: number;
  /** `--schedule-slice`: work units (≈ bytes moved) one domain may spend before others get a turn. */
  readonly scheduleSliceUnits: number;
  /** Most hypercalls in one Session batch. */
  readonly maxBatch: number;
  readonly logLevel: string;
  /** Deadline for a graceful stop before connections are cut. */
  readonly shutdownDeadlineMs: number;
  /** `--xsm`: the XSM module (Xen's `xsm=`). Default: flask with a policy, else dummy. */
  readonly xsm?: XsmModuleName;
  /** `--policy FILE`: the Flask policy loaded at boot (already validated by the parser). */
  readonly policy?: PolicySource;
  /** `--flask-mode`: enforcing (default) or permissive. */
  readonly flaskMode?: FlaskMode;
  /** `--firewall-default`: the verdict when no firewall rule matches (default accept). */
  readonly firewallDefault?: FirewallVerdict;
  /** `--enrolment-template`: domain templates guests may enrol into, with their tokens. */
  readonly enrolmentTemplates: readonly DomainTemplate[];
  /** `--enrolment-devices`: VirtIO devices that enrolled domains get from an enrolled back end. */
  readonly enrolmentDevices: readonly EnrolmentDeviceRule[];
  /** `--grace-period`: how long an enrolled guest may stay away before its domain is destroyed. */
  readonly gracePeriodMs: number;
  /** What each gRPC listener allows a peer before and after it authenticates (docs/security.md). */
  readonly admission: AdmissionLimits;
  /** `--http-listen`: the harness HTTP listener (/healthz, /metrics, /v1/history); off if unset. */
  readonly httpListen?: string;
  /** `--history-file`: the history as JSON lines. */
  readonly historyFile?: string;
  /** `--history-window`: events retained for `?since=` resume (default 65536). */
  readonly historyWindow?: number;
  /** `--history-from-boot`: record the history from start, not from its first subscriber. */
  readonly historyFromBoot?: boolean;
  /** `--link-faults` / `--toxiproxy-listen`: the link-fault layer (docs/chaos.md); off if absent. */
  readonly linkFaults?: LinkFaultsConfig;
  /** `--fault-seed`: the seed of every fault engine's chance draws (random if absent). */
  readonly faultSeed?: number;
  /**
   * `false` leaves the Argo fault engine's hooks out (sendv and query checks, VIRQ delays, the
   * delaying scheduler), so an applied fault does nothing: only the baseline of the engine's
   * idle cost (bench/src/fault-bench.ts). Embedding only, no flag; default on.
   */
  readonly argoFaultEngine?: boolean;
  /** `--state-dir`: keep the state in this directory across restarts (docs/state.md). */
  readonly stateDir?: string;
  /** `--state-fsync`: fsync every journal commit (machine crashes, not only process deaths). */
  readonly stateFsync?: boolean;
  /** `--state-snapshot-bytes`: journal growth that triggers a snapshot (0: never; docs/state.md). */
  readonly stateSnapshotBytes?: number;
}

export interface LinkFaultsConfig {
  /** `--fault-seed`: the seed of every chance draw (printed at start). */
  readonly seed: number;
  /** `--toxiproxy-listen`: where the Toxiproxy-compatible API listens, if anywhere. */
  readonly toxiproxyListen?: string;
}

/** Default admission limits of both listeners; docs/security.md says why each. */
export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  maxRequestBytes: MAX_GRPC_MESSAGE_BYTES,
  maxStreamsPerConnection: 256,
  maxUnauthenticatedConnections: 64,
  unauthenticatedConnectionMs: 10_000,
  maxRefusedCallsPerConnection: 16,
};
/** Default `--domain-held-bytes`: four 16 MiB reads in flight, then the domain waits. */
export const DEFAULT_DOMAIN_HELD_BYTES = 64 * 1024 * 1024;
/** Default `--resume-log-bytes`: one full 16 MiB read can always be replayed after a drop. */
export const DEFAULT_RESUME_LOG_BYTES = 16 * 1024 * 1024;
/** Default `--schedule-slice`: 1 MiB moved (a 16 MiB copy is one step that overruns it). */
export const DEFAULT_SCHEDULE_SLICE_UNITS = 1024 * 1024;

/**
 * A complete configuration for running a hypervisor in-process (tests, harnesses, benchmarks):
 * loopback listeners on free ports, Argo on, permissive wildcard rings, dummy XSM, quiet logs.
 * Override what matters: `{ ...embeddedHypervisorConfig(token), argoMacPermissive: false }`.
 */
export function embeddedHypervisorConfig(adminToken: string): HypervisorConfig {
  return {
    listen: "127.0.0.1:0",
    controlListen: "127.0.0.1:0",
    adminToken,
    argoEnabled: true,
    argoMacPermissive: true,
    maxTotalMemoryBytes: 1024 * 1024 * 1024,
    maxDomainMemoryBytes: 256 * 1024 * 1024,
    resumeWindow: 4096,
    resumeLogMaxBytes: DEFAULT_RESUME_LOG_BYTES,
    domainHeldBytes: DEFAULT_DOMAIN_HELD_BYTES,
    scheduleSliceUnits: DEFAULT_SCHEDULE_SLICE_UNITS,
    maxBatch: 1024,
    logLevel: "silent",
    shutdownDeadlineMs: 1000,
    enrolmentTemplates: [],
    enrolmentDevices: [],
    gracePeriodMs: 60_000,
    admission: DEFAULT_ADMISSION_LIMITS,
  };
}

/** Bad configuration; lists every problem. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

export const HYPERVISOR_USAGE = `usage: hmx hypervisor [options]

  --listen HOST:PORT|unix:PATH guest-facing gRPC address (env HMX_LISTEN; default 127.0.0.1:7070; port 0 = any)
  --control-listen HOST:PORT   toolstack gRPC address (env HMX_CONTROL_LISTEN; default 127.0.0.1:7071)
  --admin-token-file FILE      file holding the toolstack admin token (or env HMX_ADMIN_TOKEN); required
  --argo / --no-argo           enable Argo (default on); off makes every hypercall -EOPNOTSUPP
  --argo-mac-permissive        allow wildcard (any-sender) rings (env HMX_ARGO_MAC_PERMISSIVE=1; default off, as in Xen)
  --xsm dummy|flask|silo       XSM module (env HMX_XSM; default flask with --policy, else dummy = allow all)
  --policy FILE                Flask policy loaded at boot (env HMX_POLICY; grammar in docs/mac.md)
  --flask-mode MODE            enforcing|permissive (env HMX_FLASK_MODE; default enforcing); permissive logs denials and allows
  --firewall-default VERDICT   accept|reject when no Argo firewall rule matches (env HMX_FIREWALL_DEFAULT; default accept, as viptables)
  --enrolment-template NAME:LABEL:MEMORY:MAX
                               a domain template guests may enrol into (repeatable); its token comes
                               from env HMX_ENROLMENT_TOKEN_<NAME> (upper case, - as _)
  --enrolment-devices FRONTEND:BACKEND:TYPE[,TYPE...]
                               VirtIO devices (blk, net, console) every domain of template FRONTEND gets,
                               served by the one domain of template BACKEND (MAX 1), placed as soon as
                               both have enrolled (repeatable; docs/virtio-argo.md)
  --http-listen HOST:PORT      harness HTTP listener: /healthz, /metrics, /v1/history (env HMX_HTTP_LISTEN; off by default; docs/harness.md)
  --history-file FILE          also write the event history as JSON lines to FILE (env HMX_HISTORY_FILE)
  --state-dir DIR              keep domains, memory, rings, credentials and the resume log in DIR across
                               restarts and SIGKILL (env HMX_STATE_DIR; off by default; docs/state.md)
  --state-fsync                fsync every journal commit, to survive machine crashes too (env HMX_STATE_FSYNC=1)
  --state-snapshot-bytes BYTES snapshot the state and restart the journal once it has grown this much, and at
                               a clean stop (env HMX_STATE_SNAPSHOT_BYTES; default 64M; 0: journal only)
  --history-window N           events retained for history resume with ?since= (default 65536)
  --history-from-boot          record the history from start (default: from its first subscriber)
  --grace-period SECONDS       destroy an enrolled domain whose guest stayed away this long (env HMX_GRACE_PERIOD; default 60)
  --max-total-memory BYTES     all domains' memory together, each reserved whole at creation (env HMX_MAX_TOTAL_MEMORY; default 4 GiB)
  --max-domain-memory BYTES    largest domain (env HMX_MAX_DOMAIN_MEMORY; default 1 GiB)
  --resume-window N            unacknowledged results kept per domain (default 4096)
  --max-batch N                most hypercalls per Session batch (default 1024)
  --max-request-bytes SIZE     largest request after decompression (env HMX_MAX_REQUEST_BYTES; default 16M+64K)
  --max-streams-per-connection N
                               most concurrent calls on one connection (env HMX_MAX_STREAMS_PER_CONNECTION; default 256)
  --max-unauthenticated-connections N
                               most connections per listener that have not carried an authenticated call
                               (env HMX_MAX_UNAUTHENTICATED_CONNECTIONS; default 64)
  --unauthenticated-connection-timeout SECONDS
                               close a connection that carried no authenticated call by then
                               (env HMX_UNAUTHENTICATED_CONNECTION_TIMEOUT; default 10)
  --max-refused-calls-per-connection N
                               close a connection that has not authenticated at this many refused calls
                               (env HMX_MAX_REFUSED_CALLS_PER_CONNECTION; default 16)
  --resume-log-bytes BYTES     ReadMemory result bytes kept per domain for resume (env HMX_RESUME_LOG_BYTES; default 16M)
  --domain-held-bytes BYTES    result bytes held for one domain (unsent results, replies, resume log) before its
                               calls wait and its unary calls get RESOURCE_EXHAUSTED (env HMX_DOMAIN_HELD_BYTES; default 64M)
  --schedule-slice UNITS       work (bytes moved, plus 256 per call or entry) one domain may do before other
                               domains get a turn (env HMX_SCHEDULE_SLICE; default 1M)
  --link-faults                relay each guest link through the link-fault layer (docs/chaos.md)
  --toxiproxy-listen HOST:PORT serve the Toxiproxy-compatible API there (implies --link-faults; loopback
                               only: like Toxiproxy it has no authentication)
  --toxiproxy-allow-remote     let --toxiproxy-listen bind a non-loopback address (anyone who reaches it
                               can cut every guest's link)
  --fault-seed N               seed of the fault engine's chance draws (default random; printed at start)
  --log-level LEVEL            trace|debug|info|warn|error|fatal (env HMX_LOG_LEVEL; default info)
  -h, --help                   show this help

Sizes accept a K, M or G suffix (powers of 1024).`;

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

/** A listen address: "host:port", or "unix:/absolute/path" for a Unix socket. */
export function isListenAddress(value: string): boolean {
  return parseHostPort(value) !== undefined || /^unix:\/[^\0]+$/.test(value);
}

/** The environment variable holding a template's enrolment token. */
export function enrolmentTokenEnv(template: string): string {
  return `HMX_ENROLMENT_TOKEN_${template.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** "123", "64K", "16M", "4G" → bytes. */
export function parseSize(value: string): number | undefined {
  const match = /^(\d+)([KMG]?)$/i.exec(value.trim());
  if (match === null) return undefined;
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(match[2] ?? "").toUpperCase()] ?? 1;
  const n = Number(match[1]) * unit;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Why a token read from a file cannot be the admin token, or undefined. The reason never quotes
 * the file: it may be a `.env` full of other secrets.
 */
export function adminTokenProblem(token: string): string | undefined {
  if (token === "") return "the file is empty";
  const bad = /[^\x21-\x7e]/.exec(token);
  if (bad !== null) {
    const what =
      bad[0] === "\n" || bad[0] === "\r"
        ? "more than one line"
        : "a space or non-printable character";
    return `the token must be one line of printable ASCII with no spaces, but the file has ${what} (at character ${bad.index + 1}); put only the token in it`;
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function truthy(value: string | undefined): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  return undefined;
}

export function parseHypervisorConfig(input: {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  readFile?: (path: string) => string;
}): HypervisorConfig | "help" {
  const { argv, env } = input;
  const readFile = input.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const problems: string[] = [];
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      allowNegative: true,
      options: {
        listen: { type: "string" },
        "enrolment-template": { type: "string", multiple: true },
        "enrolment-devices": { type: "string", multiple: true },
        "grace-period": { type: "string" },
        "http-listen": { type: "string" },
        "history-file": { type: "string" },
        "state-dir": { type: "string" },
        "state-fsync": { type: "boolean" },
        "state-snapshot-bytes": { type: "string" },
        "history-window": { type: "string" },
        "history-from-boot": { type: "boolean" },
        "control-listen": { type: "string" },
        "admin-token-file": { type: "string" },
        argo: { type: "boolean" },
        "argo-mac-permissive": { type: "boolean" },
        xsm: { type: "string" },
        policy: { type: "string" },
        "flask-mode": { type: "string" },
        "firewall-default": { type: "string" },
        "max-total-memory": { type: "string" },
        "max-domain-memory": { type: "string" },
        "resume-window": { type: "string" },
        "max-batch": { type: "string" },
        "max-request-bytes": { type: "string" },
        "max-streams-per-connection": { type: "string" },
        "max-unauthenticated-connections": { type: "string" },
        "unauthenticated-connection-timeout": { type: "string" },
        "max-refused-calls-per-connection": { type: "string" },
        "resume-log-bytes": { type: "string" },
        "domain-held-bytes": { type: "string" },
        "schedule-slice": { type: "string" },
        "log-level": { type: "string" },
        "link-faults": { type: "boolean" },
        "toxiproxy-listen": { type: "string" },
        "toxiproxy-allow-remote": { type: "boolean" },
        "fault-seed": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  if (values.help === true) return "help";

  const address = (flag: string, value: string): string => {
    if (!isListenAddress(value))
      problems.push(
        `--${flag} ${JSON.stringify(value)}: expected HOST:PORT with port 0..65535, or unix:/PATH`,
      );
    return value;
  };
  const size = (flag: string, value: string): number => {
    const n = parseSize(value);
    if (n === undefined || n <= 0)
      problems.push(
        `--${flag} ${JSON.stringify(value)}: expected a positive size like 4G, 512M or 65536`,
      );
    return n ?? 0;
  };
  const count = (flag: string, value: string, min: number, max: number): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      problems.push(`--${flag} ${JSON.stringify(value)}: expected an integer in ${min}..${max}`);
    return n;
  };

  const listen = address("listen", values.listen ?? env["HMX_LISTEN"] ?? "127.0.0.1:7070");
  const controlListen = address(
    "control-listen",
    values["control-listen"] ?? env["HMX_CONTROL_LISTEN"] ?? "127.0.0.1:7071",
  );

  let adminToken = "";
  const tokenFile = values["admin-token-file"];
  if (tokenFile !== undefined) {
    try {
      adminToken = readFile(tokenFile).trim();
      const problem = adminTokenProblem(adminToken);
      if (problem !== undefined) {
        problems.push(`--admin-token-file ${JSON.stringify(tokenFile)}: ${problem}`);
        adminToken = "";
      }
    } catch (err) {
      // The reader's message names the path and the errno, never what the file holds.
      problems.push(
        `--admin-token-file ${JSON.stringify(tokenFile)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  } else if (env["HMX_ADMIN_TOKEN"] !== undefined && env["HMX_ADMIN_TOKEN"].trim() !== "") {
    adminToken = env["HMX_ADMIN_TOKEN"].trim();
  } else {
    problems.push(
      "no admin token: pass --admin-token-file FILE or set HMX_ADMIN_TOKEN (the toolstack never runs unauthenticated)",
    );
  }
  if (adminToken !== "" && adminToken.length < 16)
    problems.push("the admin token is shorter than 16 characters");

  const macEnv = env["HMX_ARGO_MAC_PERMISSIVE"];
  const macFromEnv = truthy(macEnv);
  if (macEnv !== undefined && macEnv !== "" && macFromEnv === undefined) {
    problems.push(
      `HMX_ARGO_MAC_PERMISSIVE ${JSON.stringify(macEnv)}: expected 1/0, true/false, yes/no or on/off`,
    );
  }

  const logLevel = values["log-level"] ?? env["HMX_LOG_LEVEL"] ?? "info";
  if (!LOG_LEVELS.has(logLevel))
    problems.push(
      `--log-level ${JSON.stringify(logLevel)}: expected one of ${[...LOG_LEVELS].join(", ")}`,
    );

  const policyFile = values.policy ?? nonEmpty(env["HMX_POLICY"]);
  let policy: PolicySource | undefined;
  if (policyFile !== undefined) {
    try {
      policy = { fileName: policyFile, source: readFile(policyFile) };
    } catch (err) {
      problems.push(`--policy ${JSON.stringify(policyFile)}: ${(err as Error).message}`);
    }
    if (policy !== undefined) {
      const compiled = compilePolicy(policy.source, policy.fileName);
      if (!compiled.ok) {
        problems.push(
          `--policy ${JSON.stringify(policyFile)}: the policy has ${compiled.errors.length} error(s):`,
        );
        problems.push(...compiled.errors.map((e) => `  ${formatDiagnostic(e)}`));
      }
    }
  }
  const xsmValue =
    values.xsm ?? nonEmpty(env["HMX_XSM"]) ?? (policyFile !== undefined ? "flask" : "dummy");
  const xsm = XSM_MODULE_NAMES.find((m) => m === xsmValue);
  if (xsm === undefined)
    problems.push(
      `--xsm ${JSON.stringify(xsmValue)}: expected one of ${XSM_MODULE_NAMES.join(", ")}`,
    );
  else if (policyFile !== undefined && xsm !== "flask")
    problems.push(`--policy needs --xsm flask (got --xsm ${xsm})`);
  const flaskModeValue = values["flask-mode"] ?? nonEmpty(env["HMX_FLASK_MODE"]) ?? "enforcing";
  const flaskMode =
    flaskModeValue === "enforcing" || flaskModeValue === "permissive" ? flaskModeValue : undefined;
  if (flaskMode === undefined)
    problems.push(
      `--flask-mode ${JSON.stringify(flaskModeValue)}: expected enforcing or permissive`,
    );
  const fwValue = values["firewall-default"] ?? nonEmpty(env["HMX_FIREWALL_DEFAULT"]) ?? "accept";
  const firewallDefault = fwValue === "accept" || fwValue === "reject" ? fwValue : undefined;
  if (firewallDefault === undefined)
    problems.push(`--firewall-default ${JSON.stringify(fwValue)}: expected accept or reject`);

  const enrolmentTemplates: DomainTemplate[] = [];
  for (const spec of values["enrolment-template"] ?? []) {
    const match = /^([a-z][a-z0-9-]{0,14}):([A-Za-z0-9_.:-]{1,64}):(\w+):(\d+)$/.exec(spec);
    const memoryBytes = match === null ? undefined : parseSize(match[3] ?? "");
    if (match === null || memoryBytes === undefined || memoryBytes % 4096 !== 0) {
      problems.push(
        `--enrolment-template ${JSON.stringify(spec)}: expected NAME:LABEL:MEMORY:MAX, e.g. guest:guest_t:16M:64 (NAME lower-case, MEMORY a multiple of 4 KiB)`,
      );
      continue;
    }
    const name = match[1] ?? "";
    const tokenVar = enrolmentTokenEnv(name);
    const token = nonEmpty(env[tokenVar]?.trim());
    if (token === undefined || token.length < 16) {
      problems.push(
        `--enrolment-template ${name}: set ${tokenVar} to its enrolment token (at least 16 characters; hmx fleet init makes one)`,
      );
      continue;
    }
    if (enrolmentTemplates.some((t) => t.name === name)) {
      problems.push(`--enrolment-template ${name}: the template is given twice`);
      continue;
    }
    enrolmentTemplates.push({
      name,
      label: match[2] ?? "",
      memoryBytes,
      maxDomains: Number(match[4]),
      token,
    });
  }
  const enrolmentDevices = parseEnrolmentDevices(
    values["enrolment-devices"] ?? [],
    enrolmentTemplates,
    problems,
  );
  const graceValue = values["grace-period"] ?? nonEmpty(env["HMX_GRACE_PERIOD"]) ?? "60";
  const graceSeconds = Number(graceValue);
  if (!(Number.isFinite(graceSeconds) && graceSeconds > 0 && graceSeconds <= 86400)) {
    problems.push(`--grace-period ${JSON.stringify(graceValue)}: expected seconds in (0, 86400]`);
  }

  const maxRequestBytes = size(
    "max-request-bytes",
    values["max-request-bytes"] ??
      nonEmpty(env["HMX_MAX_REQUEST_BYTES"]) ??
      String(MAX_GRPC_MESSAGE_BYTES),
  );
  if (maxRequestBytes > 0 && (maxRequestBytes < 4096 || maxRequestBytes > MAX_GRPC_MESSAGE_BYTES)) {
    problems.push(
      `--max-request-bytes ${maxRequestBytes}: expected 4096..${MAX_GRPC_MESSAGE_BYTES} (a 16 MiB WriteMemory needs the maximum)`,
    );
  }
  const timeoutValue =
    values["unauthenticated-connection-timeout"] ??
    nonEmpty(env["HMX_UNAUTHENTICATED_CONNECTION_TIMEOUT"]) ??
    String(DEFAULT_ADMISSION_LIMITS.unauthenticatedConnectionMs / 1000);
  const timeoutSeconds = Number(timeoutValue);
  if (!(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 && timeoutSeconds <= 3600)) {
    problems.push(
      `--unauthenticated-connection-timeout ${JSON.stringify(timeoutValue)}: expected seconds in (0, 3600]`,
    );
  }
  const admission: AdmissionLimits = {
    maxRequestBytes,
    maxStreamsPerConnection: count(
      "max-streams-per-connection",
      values["max-streams-per-connection"] ??
        nonEmpty(env["HMX_MAX_STREAMS_PER_CONNECTION"]) ??
        String(DEFAULT_ADMISSION_LIMITS.maxStreamsPerConnection),
      1,
      65536,
    ),
    maxUnauthenticatedConnections: count(
      "max-unauthenticated-connections",
      values["max-unauthenticated-connections"] ??
        nonEmpty(env["HMX_MAX_UNAUTHENTICATED_CONNECTIONS"]) ??
        String(DEFAULT_ADMISSION_LIMITS.maxUnauthenticatedConnections),
      1,
      65536,
    ),
    unauthenticatedConnectionMs: Math.round(timeoutSeconds * 1000),
    maxRefusedCallsPerConnection: count(
      "max-refused-calls-per-connection",
      values["max-refused-calls-per-connection"] ??
        nonEmpty(env["HMX_MAX_REFUSED_CALLS_PER_CONNECTION"]) ??
        String(DEFAULT_ADMISSION_LIMITS.maxRefusedCallsPerConnection),
      1,
      65536,
    ),
  };
  const httpListen = values["http-listen"] ?? nonEmpty(env["HMX_HTTP_LISTEN"]);
  if (httpListen !== undefined && parseHostPort(httpListen) === undefined)
    problems.push(
      `--http-listen ${JSON.stringify(httpListen)}: expected HOST:PORT with port 0..65535`,
    );
  const historyFile = values["history-file"] ?? nonEmpty(env["HMX_HISTORY_FILE"]);
  if (values["history-from-boot"] === true && httpListen === undefined && historyFile === undefined)
    problems.push("--history-from-boot records for --http-listen or --history-file: give one");
  const stateDir = values["state-dir"] ?? nonEmpty(env["HMX_STATE_DIR"]);
  const fsyncEnv = env["HMX_STATE_FSYNC"];
  const stateFsync = values["state-fsync"] ?? truthy(fsyncEnv);
  if (stateFsync === true && stateDir === undefined) {
    problems.push("--state-fsync needs --state-dir DIR (there is no journal to fsync without one)");
  }
  if (fsyncEnv !== undefined && fsyncEnv !== "" && truthy(fsyncEnv) === undefined) {
    problems.push(
      `HMX_STATE_FSYNC ${JSON.stringify(fsyncEnv)}: expected 1/0, true/false, yes/no or on/off`,
    );
  }
  const snapshotFlag = values["state-snapshot-bytes"] ?? nonEmpty(env["HMX_STATE_SNAPSHOT_BYTES"]);
  if (snapshotFlag !== undefined && stateDir === undefined) {
    problems.push("--state-snapshot-bytes needs --state-dir DIR (there is no journal to compact)");
  }
  const stateSnapshotBytes =
    snapshotFlag === "0" ? 0 : size("state-snapshot-bytes", snapshotFlag ?? "64M");
  const resumeLogMaxBytes = size(
    "resume-log-bytes",
    values["resume-log-bytes"] ?? nonEmpty(env["HMX_RESUME_LOG_BYTES"]) ?? "16M",
  );
  const domainHeldBytes = size(
    "domain-held-bytes",
    values["domain-held-bytes"] ?? nonEmpty(env["HMX_DOMAIN_HELD_BYTES"]) ?? "64M",
  );
  if (resumeLogMaxBytes > 0 && domainHeldBytes > 0 && resumeLogMaxBytes >= domainHeldBytes) {
    // The log drains only by acknowledgement: at or over the budget it alone would stop a domain.
    problems.push(
      `--resume-log-bytes ${resumeLogMaxBytes} must be below --domain-held-bytes ${domainHeldBytes} (the resume log is charged to the same budget)`,
    );
  }
  const faultSeed = parseFaultSeed(values["fault-seed"], problems);
  const linkFaults = parseLinkFaults(values, faultSeed, problems);

  const config: HypervisorConfig = {
    listen,
    controlListen,
    adminToken,
    argoEnabled: values.argo ?? true,
    argoMacPermissive: values["argo-mac-permissive"] ?? macFromEnv ?? false,
    maxTotalMemoryBytes: size(
      "max-total-memory",
      values["max-total-memory"] ?? env["HMX_MAX_TOTAL_MEMORY"] ?? "4G",
    ),
    maxDomainMemoryBytes: size(
      "max-domain-memory",
      values["max-domain-memory"] ?? env["HMX_MAX_DOMAIN_MEMORY"] ?? "1G",
    ),
    resumeWindow: count("resume-window", values["resume-window"] ?? "4096", 16, 1 << 20),
    resumeLogMaxBytes,
    domainHeldBytes,
    scheduleSliceUnits: size(
      "schedule-slice",
      values["schedule-slice"] ?? nonEmpty(env["HMX_SCHEDULE_SLICE"]) ?? "1M",
    ),
    maxBatch: count("max-batch", values["max-batch"] ?? "1024", 1, 65536),
    logLevel,
    shutdownDeadlineMs: 5000,
    xsm: xsm ?? "dummy",
    ...(policy === undefined ? {} : { policy }),
    flaskMode: flaskMode ?? "enforcing",
    firewallDefault: firewallDefault ?? "accept",
    enrolmentTemplates,
    enrolmentDevices,
    gracePeriodMs: Math.round(graceSeconds * 1000),
    admission,
    ...(httpListen === undefined ? {} : { httpListen }),
    ...(historyFile === undefined ? {} : { historyFile }),
    historyWindow: count("history-window", values["history-window"] ?? "65536", 16, 1 << 24),
    ...(values["history-from-boot"] === true ? { historyFromBoot: true } : {}),
    ...(linkFaults === undefined ? {} : { linkFaults }),
    faultSeed,
    ...(stateDir === undefined
      ? {}
      : { stateDir, stateFsync: stateFsync ?? false, stateSnapshotBytes }),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** `--fault-seed`: an unsigned 32-bit integer, random when absent. */
function parseFaultSeed(value: string | undefined, problems: string[]): number {
  const seed = value === undefined ? randomSeed() : Number(value);
  if (value !== undefined && !(/^\d+$/.test(value) && seed <= 0xffffffff))
    problems.push(`--fault-seed ${JSON.stringify(value)}: expected an integer in 0..4294967295`);
  return seed;
}

/** `--link-faults`, `--toxiproxy-listen` (loopback unless allowed), with the fault seed. */
function parseLinkFaults(
  values: {
    "link-faults"?: boolean;
    "toxiproxy-listen"?: string;
    "toxiproxy-allow-remote"?: boolean;
  },
  seed: number,
  problems: string[],
): LinkFaultsConfig | undefined {
  const toxiproxyListen = values["toxiproxy-listen"];
  if (toxiproxyListen !== undefined) {
    const hostPort = parseHostPort(toxiproxyListen);
    if (hostPort === undefined)
      problems.push(
        `--toxiproxy-listen ${JSON.stringify(toxiproxyListen)}: expected HOST:PORT with port 0..65535`,
      );
    else if (
      values["toxiproxy-allow-remote"] !== true &&
      !/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(hostPort.host)
    )
      problems.push(
        `--toxiproxy-listen ${JSON.stringify(toxiproxyListen)}: ${hostPort.host} is not a loopback address; the API has no authentication, so add --toxiproxy-allow-remote to expose it`,
      );
  }
  if (values["link-faults"] !== true && toxiproxyListen === undefined) return undefined;
  return { seed, ...(toxiproxyListen === undefined ? {} : { toxiproxyListen }) };
}

const ENROLMENT_DEVICE_TYPES: readonly EnrolmentDeviceType[] = ["blk", "net", "console"];

/** `--enrolment-devices FRONTEND:BACKEND:TYPE[,TYPE...]`, checked against the templates. */
function parseEnrolmentDevices(
  specs: readonly string[],
  templates: readonly DomainTemplate[],
  problems: string[],
): EnrolmentDeviceRule[] {
  const rules: EnrolmentDeviceRule[] = [];
  for (const spec of specs) {
    const flag = `--enrolment-devices ${JSON.stringify(spec)}`;
    const match = /^([a-z][a-z0-9-]{0,14}):([a-z][a-z0-9-]{0,14}):([a-z,]+)$/.exec(spec);
    if (match === null) {
      problems.push(
        `${flag}: expected FRONTEND:BACKEND:TYPE[,TYPE...], e.g. guest:vbackend:blk,net,console`,
      );
      continue;
    }
    const [, frontendTemplate = "", backendTemplate = "", typeList = ""] = match;
    const before = problems.length;
    const backend = templates.find((t) => t.name === backendTemplate);
    if (!templates.some((t) => t.name === frontendTemplate))
      problems.push(`${flag}: no --enrolment-template named ${JSON.stringify(frontendTemplate)}`);
    if (backend === undefined)
      problems.push(`${flag}: no --enrolment-template named ${JSON.stringify(backendTemplate)}`);
    else if (backend.maxDomains !== 1)
      problems.push(
        `${flag}: the back-end template ${backendTemplate} must allow exactly one domain (MAX 1), not ${backend.maxDomains}`,
      );
    if (frontendTemplate === backendTemplate)
      problems.push(`${flag}: a template cannot serve devices to itself`);
    const types: EnrolmentDeviceType[] = [];
    for (const name of typeList.split(",")) {
      const type = ENROLMENT_DEVICE_TYPES.find((t) => t === name);
      if (type === undefined)
        problems.push(
          `${flag}: device type ${JSON.stringify(name)}: expected one of ${ENROLMENT_DEVICE_TYPES.join(", ")}`,
        );
      else if (types.includes(type)) problems.push(`${flag}: device type ${type} is given twice`);
      else types.push(type);
    }
    if (
      rules.some(
        (r) => r.frontendTemplate === frontendTemplate && r.backendTemplate === backendTemplate,
      )
    ) {
      problems.push(`${flag}: ${frontendTemplate} already gets devices from ${backendTemplate}`);
    }
    if (problems.length === before) rules.push({ frontendTemplate, backendTemplate, types });
  }
  return rules;
}
