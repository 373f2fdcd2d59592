// SPDX-License-Identifier: Apache-2.0
/**
 * The workloads `hmx guest --workload NAME` can run, by name: each entry turns the guest's
 * config into its workload's options, makes its stats and starts it. `runGuest` (agent.ts) only
 * connects, looks the name up and reports; a new workload is one entry here and one name in
 * `WORKLOAD_NAMES`, and the compiler checks every name has an entry.
 */
import type { Logger } from "pino";
import type { GuestClient } from "../agent.js";
import type { GuestConfig } from "../config.js";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { PeerDirectory } from "../platform-client.js";
import type { WorkloadBaseOptions } from "./common.js";
import { newEchoStats, runEcho } from "./echo.js";
import { newFleetStats, runFleet } from "./fleet.js";
import type { WorkloadName } from "./index.js";
import { newPingStats, runPing } from "./ping.js";
import { newSinkStats, runSink } from "./sink.js";
import { newTrafficStats, runTraffic } from "./traffic.js";
import { newTunnelStats, runTunnel } from "./tunnel.js";
import { newVirtioBackendStats, runVirtioBackend } from "./virtio-backend.js";
import { newVirtioDemoStats, runVirtioDemo } from "./virtio-demo.js";

/** What a workload gets from the guest runner. */
export interface WorkloadContext {
  readonly config: GuestConfig;
  readonly endpoint: ArgoEndpoint;
  readonly client: GuestClient;
  /** The domain credential (for the platform calls: ListPeers, WatchEvents). */
  readonly credential: string;
  /** The stop signal and the "guest ready" report every workload takes. */
  readonly base: WorkloadBaseOptions;
  readonly log: Logger;
}

/** A started workload: its live counters, and the promise of its end. */
export interface StartedWorkload {
  readonly stats: () => object;
  readonly done: Promise<void>;
}

type WorkloadStarter = (ctx: WorkloadContext) => StartedWorkload;

/** `--peer`, for the workloads that only accept it from that domain; else nothing. */
function partnerOf(config: GuestConfig): { partner?: number } {
  return config.peer === undefined ? {} : { partner: config.peer };
}

function requirePeer(config: GuestConfig): number {
  // parseGuestConfig guarantees it for ping and traffic; a hand-made config may not.
  if (config.peer === undefined) throw new Error(`the ${config.workload} workload needs a peer`);
  return config.peer;
}

/** Starts `run` with `stats` as its counters: the shape of every entry below. */
function started<S extends object>(stats: S, run: (s: S) => Promise<void>): StartedWorkload {
  return { stats: () => stats, done: run(stats) };
}

/**
 * The fleet workload: the Argo streams to every peer, and alongside them whatever VirtIO
 * devices the toolstack gave this domain (none: the device part only watches its table for a
 * hot-add). The devices failing must not take the Argo streams down with them.
 */
function startFleet({ config, endpoint, client, credential, base, log }: WorkloadContext) {
  const s = newFleetStats();
  const vs = newVirtioDemoStats();
  const done = (async () => {
    const peers = new PeerDirectory(config.hypervisor, credential);
    const devicesStop = new AbortController();
    const { label } = await client.getDomainInfo();
    // Same label, same template, same devices: those peers share our back end's switch.
    const pingTargets = async () =>
      (await peers.list().catch(() => [])).filter((p) => p.label === label).map((p) => p.domid);
    const devices = runVirtioDemo(
      endpoint,
      {
        signal: AbortSignal.any([base.signal, devicesStop.signal]),
        client,
        address: config.hypervisor,
        credential,
        count: 0,
        intervalMs: config.intervalMs,
        log,
        pingTargets,
      },
      vs,
    ).catch((err: unknown) => {
      log.warn({ err }, "virtio devices stopped with an error");
    });
    try {
      await runFleet(
        endpoint,
        {
          ...base,
          port: config.port,
          size: config.size,
          rate: config.rate,
          listPeers: () => peers.list(),
          log,
        },
        s,
      );
    } finally {
      devicesStop.abort();
      await devices;
      peers.close();
    }
  })();
  return { stats: () => ({ ...s, virtio: vs }), done };
}

function startTunnel({ config, endpoint, credential, base, log }: WorkloadContext) {
  const { tunnel } = config;
  if (tunnel === undefined) throw new Error("the tunnel workload needs its flags");
  return started(newTunnelStats(), async (s) => {
    const peers = new PeerDirectory(config.hypervisor, credential);
    try {
      const listPeers = () => peers.list();
      await runTunnel(endpoint, { ...base, spec: tunnel, ...partnerOf(config), listPeers, log }, s);
    } finally {
      peers.close();
    }
  });
}

/** Every workload by its `--workload` name. */
export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadStarter>> = {
  echo: ({ config, endpoint, base }) =>
    started(newEchoStats(), (s) =>
      runEcho(endpoint, { ...base, port: config.port, ...partnerOf(config) }, s),
    ),
  sink: ({ config, endpoint, base }) =>
    started(newSinkStats(), (s) =>
      runSink(
        endpoint,
        { ...base, port: config.port, count: config.count, ...partnerOf(config) },
        s,
      ),
    ),
  ping: ({ config, endpoint, base }) =>
    started(newPingStats(), (s) =>
      runPing(
        endpoint,
        {
          ...base,
          peer: requirePeer(config),
          port: config.port,
          count: config.count,
          intervalMs: config.intervalMs,
          ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
          size: config.size,
        },
        s,
      ),
    ),
  traffic: ({ config, endpoint, base }) =>
    started(newTrafficStats(), (s) =>
      runTraffic(
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
      ),
    ),
  fleet: startFleet,
  "virtio-backend": ({ config, endpoint, client, credential, base, log }) =>
    started(newVirtioBackendStats(), (s) =>
      runVirtioBackend(
        endpoint,
        {
          ...base,
          client,
          address: config.hypervisor,
          credential,
          imageDir: config.imageDir ?? "hmx-images",
          ...(config.consoleDir === undefined ? {} : { consoleDir: config.consoleDir }),
          log,
        },
        s,
      ),
    ),
  "virtio-demo": ({ config, endpoint, client, credential, base, log }) =>
    started(newVirtioDemoStats(), (s) =>
      runVirtioDemo(
        endpoint,
        {
          ...base,
          client,
          address: config.hypervisor,
          credential,
          count: config.count,
          intervalMs: config.intervalMs,
          log,
          pingTargets: () => (config.peer === undefined ? [] : [config.peer]),
        },
        s,
      ),
    ),
  tunnel: startTunnel,
};
