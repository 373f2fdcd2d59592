// SPDX-License-Identifier: Apache-2.0
/**
 * The guest runner behind `hmx guest`: connects to the hypervisor's Session stream, creates the
 * guest's Argo endpoint, runs one workload, and reports on stdout — one `"guest ready"` record
 * once the workload's socket is bound (and its peer reachable), and a `"guest stats"` record
 * `{workload, domid, ...stats}` every stats interval and once at the end (the `hmx up`
 * dashboard parses both). On abort it stops the workload, closes its sockets (unregistering
 * their rings) and ends the session cleanly. A session that fails for good (credential
 * revoked, domain destroyed) stops the workload and rejects `runGuest`.
 */
import type { Logger } from "pino";
import type { HypercallClient } from "./hypercall/hypercall-client.js";
import { SessionClient } from "./hypercall/session-client.js";
import { ArgoEndpoint } from "./libargo/argo-endpoint.js";
import type { GuestConfig } from "./config.js";
import { redactedConfig } from "./config.js";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { enrol, isUnauthenticated } from "./platform-client.js";
import { createGuestLogger } from "./logger.js";
import { WORKLOADS } from "./workloads/registry.js";

/** A client plus, optionally, the SessionClient's "gave up for good" notification. */
export type GuestClient = HypercallClient & {
  onFatal?: (listener: (err: Error) => void) => () => void;
};

export interface RunGuestOptions {
  /** Aborting stops the guest cleanly; `runGuest` then resolves. */
  readonly signal: AbortSignal;
  /** Defaults to `createGuestLogger(config.logLevel)` (JSON on stdout). */
  readonly logger?: Logger;
  /** How to reach the hypervisor; defaults to `SessionClient.connect`. Tests inject a client. */
  readonly connect?: (args: {
    readonly address: string;
    readonly credential: string;
    readonly logger: Logger;
    /** How long the hypervisor may stay unreachable, at start or later (`--reconnect-timeout`). */
    readonly reconnectTimeoutMs: number;
  }) => Promise<GuestClient>;
}

/** Runs one guest until its workload ends (a finite count) or `options.signal` aborts. */
export async function runGuest(config: GuestConfig, options: RunGuestOptions): Promise<void> {
  const log = options.logger ?? createGuestLogger(config.logLevel);
  log.debug({ config: redactedConfig(config) }, "guest config");
  const connect =
    options.connect ??
    ((args) => SessionClient.connect({ ...args, connectTimeoutMs: args.reconnectTimeoutMs }));
  let connected;
  try {
    connected = await connectAsDomain(config, connect, log, options.signal);
  } catch (err) {
    // SIGTERM while the hypervisor was still unreachable: a clean stop, not a failure.
    if (options.signal.aborted) return;
    throw err;
  }
  const { client, credential } = connected;
  if (options.signal.aborted) {
    await client.close();
    return;
  }
  const health = startHealthFile(config.healthFile, client, config.workload);
  // Stops the workload on the caller's abort or on a fatal session failure.
  const stop = new AbortController();
  let fatal: Error | undefined;
  const onAbort = (): void => {
    stop.abort();
  };
  options.signal.addEventListener("abort", onAbort, { once: true });
  const offFatal = client.onFatal?.((err) => {
    fatal = err;
    log.error({ err }, "hypervisor session failed for good");
    stop.abort(err);
  });

  let endpoint: ArgoEndpoint | undefined;
  let timer: NodeJS.Timeout | undefined;
  const domid = client.domid;
  const { workload } = config;
  /** The running workload's counters, read afresh for every stats record. */
  let stats: () => object = () => ({});
  const logStats = (): void => {
    log.info({ workload, domid, ...stats() }, "guest stats");
  };
  try {
    // With a state directory the guest expects to restart into the same domain: resume its
    // rings from its own memory and leave them registered when it stops (agent-state.ts).
    endpoint = await ArgoEndpoint.create(client, {
      logger: log.child({ component: "libargo" }),
      resume: config.stateDir !== undefined,
    });
    const base = {
      signal: stop.signal,
      onReady: (info: { aport: number; partner: number }) => {
        log.info(
          {
            workload,
            domid,
            aport: info.aport,
            partner: info.partner,
            peer: config.peer,
            port: config.port,
          },
          "guest ready",
        );
      },
    };
    timer = setInterval(logStats, config.statsIntervalMs);
    health?.write();
    const started = WORKLOADS[workload]({ config, endpoint, client, credential, base, log });
    stats = started.stats;
    await started.done;
  } catch (err) {
    if (fatal === undefined) log.error({ err, workload, domid }, "workload failed");
    throw fatal ?? err;
  } finally {
    if (timer !== undefined) clearInterval(timer);
    health?.stop();
    logStats();
    options.signal.removeEventListener("abort", onAbort);
    offFatal?.();
    try {
      await endpoint?.close();
    } finally {
      await client.close();
    }
    log.info({ workload, domid }, "guest stopped");
  }
  if (fatal !== undefined) throw fatal;
}

/** What `connect` needs, and what `connectAsDomain` returns. */
type Connect = NonNullable<RunGuestOptions["connect"]>;

/**
 * Connects as this guest's domain. With a credential, that is the domain. With an enrolment
 * token, a credential kept in the state directory is tried first (the domain survived our
 * restart), and otherwise the guest enrols — which resumes the same domain when the hypervisor
 * still has this instance and the guest still has the instance secret its first enrolment
 * returned — and keeps the new credential (and a new instance secret) for next time.
 */
async function connectAsDomain(
  config: GuestConfig,
  connect: Connect,
  log: Logger,
  signal: AbortSignal,
): Promise<{ client: GuestClient; credential: string }> {
  const logger = log.child({ component: "session" });
  const reconnectTimeoutMs = config.reconnectTimeoutMs ?? Number.POSITIVE_INFINITY;
  const address = config.hypervisor;
  if (config.credential !== "" || config.enrolmentToken === undefined) {
    return {
      client: await connect({
        address,
        credential: config.credential,
        logger,
        reconnectTimeoutMs,
      }),
      credential: config.credential,
    };
  }
  const stored =
    config.stateDir === undefined ? undefined : readStateFile(config.stateDir, "credential");
  if (stored !== undefined) {
    try {
      const client = await connect({ address, credential: stored, logger, reconnectTimeoutMs });
      log.info({ domid: client.domid }, "resumed domain with stored credential");
      return { client, credential: stored };
    } catch (err) {
      if (!isUnauthenticated(err)) throw err;
      log.info("stored credential no longer valid; enrolling");
    }
  }
  const secret =
    config.stateDir === undefined ? undefined : readStateFile(config.stateDir, "instance-secret");
  const enrolled = await enrol(address, config.enrolmentToken, config.instance, {
    instanceSecret: secret,
    timeoutMs: reconnectTimeoutMs,
    log,
    signal,
  });
  log.info(
    {
      domid: enrolled.domid,
      template: enrolled.template,
      instance: config.instance,
      resumed: enrolled.resumed,
    },
    "enrolled",
  );
  if (config.stateDir !== undefined) {
    if (enrolled.instanceSecret !== "")
      writeStateFile(config.stateDir, "instance-secret", enrolled.instanceSecret);
    writeStateFile(config.stateDir, "credential", enrolled.credential);
  }
  return {
    client: await connect({
      address,
      credential: enrolled.credential,
      logger,
      reconnectTimeoutMs,
    }),
    credential: enrolled.credential,
  };
}

/** A secret kept in the state directory ("credential", "instance-secret"), or undefined. */
function readStateFile(stateDir: string, name: string): string | undefined {
  try {
    const value = readFileSync(join(stateDir, name), "utf8").trim();
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

function writeStateFile(stateDir: string, name: string, secret: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, name);
  // Write then rename, so a crash never leaves half a secret behind.
  writeFileSync(`${path}.tmp`, `${secret}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/**
 * Rewrites `path` every 2 s with `{state, domid, workload, at}`; a container health check (which
 * has no shell) reads it: fresh and "ready" means healthy. No file configured, nothing done.
 */
function startHealthFile(
  path: string | undefined,
  client: GuestClient,
  workload: string,
): { write(): void; stop(): void } | undefined {
  if (path === undefined) return undefined;
  const write = (): void => {
    const state = (client as { state?: string }).state ?? "ready";
    try {
      writeFileSync(
        path,
        JSON.stringify({ state, domid: client.domid, workload, at: new Date().toISOString() }),
      );
    } catch {
      // A read-only or missing directory only costs the health signal.
    }
  };
  const timer = setInterval(write, 2000);
  timer.unref();
  write();
  return {
    write,
    stop: () => {
      clearInterval(timer);
      try {
        writeFileSync(
          path,
          JSON.stringify({
            state: "stopped",
            domid: client.domid,
            workload,
            at: new Date().toISOString(),
          }),
        );
      } catch {
        // As above.
      }
    },
  };
}
