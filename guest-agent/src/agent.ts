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
import { createGuestLogger } from "./logger.js";
import {
  newEchoStats,
  newPingStats,
  newSinkStats,
  newTrafficStats,
  runEcho,
  runPing,
  runSink,
  runTraffic,
} from "./workloads/index.js";

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
  }) => Promise<GuestClient>;
}

/** Runs one guest until its workload ends (a finite count) or `options.signal` aborts. */
export async function runGuest(config: GuestConfig, options: RunGuestOptions): Promise<void> {
  const log = options.logger ?? createGuestLogger(config.logLevel);
  log.debug({ config: redactedConfig(config) }, "guest config");
  const connect = options.connect ?? ((args) => SessionClient.connect(args));
  const client = await connect({
    address: config.hypervisor,
    credential: config.credential,
    logger: log.child({ component: "session" }),
  });
  if (options.signal.aborted) {
    await client.close();
    return;
  }
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
  let stats: object = {};
  const logStats = (): void => {
    log.info({ workload, domid, ...stats }, "guest stats");
  };
  try {
    endpoint = await ArgoEndpoint.create(client, { logger: log.child({ component: "libargo" }) });
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
    const partner = config.peer === undefined ? {} : { partner: config.peer };
    switch (workload) {
      case "echo": {
        const s = newEchoStats();
        stats = s;
        await runEcho(endpoint, { ...base, port: config.port, ...partner }, s);
        break;
      }
      case "sink": {
        const s = newSinkStats();
        stats = s;
        await runSink(endpoint, { ...base, port: config.port, count: config.count, ...partner }, s);
        break;
      }
      case "ping": {
        const s = newPingStats();
        stats = s;
        await runPing(
          endpoint,
          {
            ...base,
            peer: requirePeer(config),
            port: config.port,
            count: config.count,
            intervalMs: config.intervalMs,
            size: config.size,
          },
          s,
        );
        break;
      }
      case "traffic": {
        const s = newTrafficStats();
        stats = s;
        await runTraffic(
          endpoint,
          {
            ...base,
            peer: requirePeer(config),
            port: config.port,
            count: config.count,
            rate: config.rate,
            size: config.size,
          },
          s,
        );
        break;
      }
    }
  } catch (err) {
    if (fatal === undefined) log.error({ err, workload, domid }, "workload failed");
    throw fatal ?? err;
  } finally {
    if (timer !== undefined) clearInterval(timer);
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

function requirePeer(config: GuestConfig): number {
  // parseGuestConfig guarantees it for ping and traffic; a hand-made config may not.
  if (config.peer === undefined) throw new Error(`the ${config.workload} workload needs a peer`);
  return config.peer;
}
