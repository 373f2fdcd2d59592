// SPDX-License-Identifier: Apache-2.0
/**
 * Assembles a running hypervisor: the pure core (domains, memory, Argo), the event channel, the
 * dispatcher, and two gRPC servers — the guest-facing `hmx.argo.v1.Hypervisor` and the
 * toolstack on its own listener — each with the standard gRPC health service. `stop()` drains
 * and then cuts, and tears every domain down in `argo_destroy` order.
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, loadHypervisorProto, loadToolstackProto } from "@hmx/proto";
import { HealthImplementation } from "grpc-health-check";
import { lstatSync, unlinkSync } from "node:fs";
import type { Logger } from "pino";
import type { HypervisorConfig } from "./config.js";
import { createHypervisorCore, type HypervisorCore } from "./core.js";
import { HypercallDispatcher } from "./dispatch/dispatcher.js";
import { EventChannel } from "./events/event-channel.js";
import { AdminAuth } from "./grpc/auth.js";
import { createGuestService } from "./grpc/guest-service.js";
import { GuestStreams } from "./grpc/guest-streams.js";
import { EnrolmentService } from "./fleet/enrolment.js";
import { EnrolmentDevices } from "./fleet/enrolment-devices.js";
import { createMacService } from "./grpc/mac-service.js";
import { createToolstackService } from "./grpc/toolstack-service.js";
import { DeviceManager } from "./devices/device-manager.js";
import { Audit } from "./mac/audit.js";
import { MacController } from "./mac/mac-controller.js";
import { compilePolicy } from "./mac/policy.js";
import { formatDiagnostic } from "./mac/policy-parser.js";
import { LinkFaults, identifyLinks } from "./faults/link-faults.js";
import { ToxiproxyApi } from "./faults/toxiproxy-api.js";

/** Fully qualified service names, as the health service reports them. */
export const GUEST_SERVICE_NAME = "hmx.argo.v1.Hypervisor";
export const TOOLSTACK_SERVICE_NAME = "hmx.toolstack.v1.Toolstack";

export interface RunningHypervisor {
  /** Actual guest-facing address, "host:port". */
  readonly listen: string;
  /** Actual toolstack address, "host:port". */
  readonly controlListen: string;
  readonly core: HypervisorCore;
  /** The MAC stack (XSM module, policy, firewall, audit) the core calls. */
  readonly mac: MacController;
  /** VirtIO device placement and the virtual ACPI tables at gfn 0. */
  readonly devices: DeviceManager;
  /** The link-fault engine, with `--link-faults` or `--toxiproxy-listen` (docs/chaos.md). */
  readonly linkFaults?: LinkFaults;
  /** Actual address of the Toxiproxy-compatible API, "host:port", if it listens. */
  readonly toxiproxyListen?: string;
  /** Graceful stop: NOT_SERVING, end streams, drain until the deadline, then force. */
  stop(): Promise<void>;
}

const SERVER_OPTIONS: grpc.ServerOptions = {
  ...GRPC_MESSAGE_LIMITS,
  // Detect dead guests whose link dropped silently (ecosystem.md §3.2).
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 1_000,
};

function bind(server: grpc.Server, address: string): Promise<string> {
  if (address.startsWith("unix:")) removeStaleSocket(address.slice("unix:".length));
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err !== null) {
        reject(new Error(`cannot listen on ${address}: ${err.message}`, { cause: err }));
        return;
      }
      resolve(
        address.startsWith("unix:")
          ? address
          : `${address.slice(0, address.lastIndexOf(":"))}:${port}`,
      );
    });
  });
}

/**
 * A Unix socket left by a previous run (a killed container) would make the bind fail with
 * EADDRINUSE; remove it, but never a file that is not a socket.
 */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there: nothing to remove.
  }
}

function shutdown(server: grpc.Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, deadlineMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Builds the MAC stack from the configuration; a bad boot policy throws, naming each error. */
function createMac(config: HypervisorConfig, log: Logger): MacController {
  let policy;
  if (config.policy !== undefined) {
    const compiled = compilePolicy(config.policy.source, config.policy.fileName);
    if (!compiled.ok) {
      throw new Error(
        `policy ${config.policy.fileName} has errors:\n${compiled.errors.map(formatDiagnostic).join("\n")}`,
      );
    }
    policy = compiled.policy;
  }
  const macLog = log.child({ component: "mac" });
  const mac = new MacController({
    module: config.xsm ?? (policy === undefined ? "dummy" : "flask"),
    ...(policy === undefined ? {} : { policy }),
    flaskMode: config.flaskMode ?? "enforcing",
    firewallDefault: config.firewallDefault ?? "accept",
    macPermissive: config.argoMacPermissive,
    audit: new Audit(macLog),
    log: macLog,
  });
  macLog.info(
    {
      xsm: mac.moduleName,
      flaskMode: mac.flaskMode,
      firewallDefault: mac.firewallTable.defaultVerdict,
      ...(policy === undefined
        ? {}
        : { policy: policy.fileName, sha256: policy.sha256, rules: policy.rules.length }),
    },
    "mac configured",
  );
  return mac;
}

export async function startHypervisor(
  config: HypervisorConfig,
  log: Logger,
): Promise<RunningHypervisor> {
  const events = new EventChannel();
  const mac = createMac(config, log);
  const core = createHypervisorCore({
    argo: { enabled: config.argoEnabled, macPermissive: config.argoMacPermissive },
    maxTotalMemoryBytes: config.maxTotalMemoryBytes,
    maxDomainMemoryBytes: config.maxDomainMemoryBytes,
    virq: events,
    mac,
  });
  core.domains.addHooks({
    destroying: (d) => {
      events.forget(d.domid);
    },
  });

  const argoLog = log.child({ component: "argo" });
  const dispatcher = new HypercallDispatcher(core.argo, argoLog, {
    maxEntries: config.resumeWindow,
    maxBytes: config.resumeLogMaxBytes,
  });
  const streams = new GuestStreams();
  const toolstackLog = log.child({ component: "toolstack" });
  const devices = new DeviceManager({
    registry: core.domains,
    events,
    log: toolstackLog.child({ component: "devices" }),
  });
  const enrolmentLog = log.child({ component: "enrolment" });
  const enrolment = new EnrolmentService(
    core.domains,
    config.enrolmentTemplates,
    config.gracePeriodMs,
    enrolmentLog,
  );
  const enrolmentDevices = new EnrolmentDevices(
    config.enrolmentDevices,
    devices,
    (t) => enrolment.domainsOf(t),
    enrolmentLog,
  );
  enrolment.onEnrolled((e) => {
    enrolmentDevices.enrolled(e);
  });
  let stopping = false;
  const linkFaults =
    config.linkFaults === undefined
      ? undefined
      : new LinkFaults({
          registry: core.domains,
          seed: config.linkFaults.seed,
          log: log.child({ component: "faults" }),
        });

  const guestServer = new grpc.Server(SERVER_OPTIONS);
  const guestHealth = new HealthImplementation({
    "": "NOT_SERVING",
    [GUEST_SERVICE_NAME]: "NOT_SERVING",
  });
  guestHealth.addToServer(guestServer);
  guestServer.addService(
    loadHypervisorProto().hmx.argo.v1.Hypervisor.service,
    identifyLinks(
      linkFaults,
      createGuestService({
        registry: core.domains,
        dispatcher,
        events,
        streams,
        log: argoLog,
        maxBatch: config.maxBatch,
        isStopping: () => stopping,
        enrolment,
      }),
    ),
  );

  const adminAuth = new AdminAuth(config.adminToken);
  const macService = createMacService({
    mac,
    registry: core.domains,
    auth: adminAuth,
    log: toolstackLog,
  });
  const controlServer = new grpc.Server(SERVER_OPTIONS);
  const controlHealth = new HealthImplementation({
    "": "NOT_SERVING",
    [TOOLSTACK_SERVICE_NAME]: "NOT_SERVING",
  });
  controlHealth.addToServer(controlServer);
  controlServer.addService(
    loadToolstackProto().hmx.toolstack.v1.Toolstack.service,
    createToolstackService({
      registry: core.domains,
      argo: core.argo,
      streams,
      auth: adminAuth,
      log: toolstackLog,
      mac: macService.handlers,
      devices,
    }),
  );

  let listen: string;
  let controlListen: string;
  let toxiproxyListen: string | undefined;
  const toxiproxyApi =
    config.linkFaults?.toxiproxyListen === undefined || linkFaults === undefined
      ? undefined
      : new ToxiproxyApi(linkFaults);
  try {
    // With link faults the gRPC server listens privately, behind the fault relay (faults/).
    listen = await bind(guestServer, linkFaults === undefined ? config.listen : "127.0.0.1:0");
    if (linkFaults !== undefined) {
      if (config.listen.startsWith("unix:")) removeStaleSocket(config.listen.slice("unix:".length));
      listen = await linkFaults.listen(config.listen, listen);
      log.info({ seed: linkFaults.seed }, "link faults on");
    }
    toxiproxyListen = await toxiproxyApi?.listen(config.linkFaults?.toxiproxyListen ?? "");
    controlListen = await bind(controlServer, config.controlListen);
  } catch (err) {
    guestServer.forceShutdown();
    controlServer.forceShutdown();
    await linkFaults?.close();
    await toxiproxyApi?.close();
    throw err;
  }
  /** Both listeners' health, for the whole server ('') and for their service. */
  const setHealth = (status: "SERVING" | "NOT_SERVING"): void => {
    for (const [health, name] of [
      [guestHealth, GUEST_SERVICE_NAME],
      [controlHealth, TOOLSTACK_SERVICE_NAME],
    ] as const) {
      health.setStatus("", status);
      health.setStatus(name, status);
    }
  };
  setHealth("SERVING");
  // Only a hypervisor that is up reaps enrolled domains whose guests stayed away.
  enrolment.start(
    (domid) => streams.isConnected(domid),
    (domid) => {
      streams.endAll(
        grpc.status.UNAUTHENTICATED,
        `domain ${domid} was destroyed after its grace period`,
        domid,
      );
    },
  );

  let stopped: Promise<void> | undefined;
  return {
    listen,
    controlListen,
    core,
    mac,
    devices,
    ...(linkFaults === undefined ? {} : { linkFaults }),
    ...(toxiproxyListen === undefined ? {} : { toxiproxyListen }),
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        setHealth("NOT_SERVING");
        enrolment.stop();
        streams.endAll(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
        macService.endWatchers(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
        await Promise.all([
          shutdown(guestServer, config.shutdownDeadlineMs),
          shutdown(controlServer, config.shutdownDeadlineMs),
        ]);
        await Promise.all([linkFaults?.close(), toxiproxyApi?.close()]);
        // Teardown in argo_destroy order for every domain still alive.
        for (const domain of core.domains.list()) core.domains.destroy(domain.domid);
        log.info("hypervisor stopped");
      })();
      return stopped;
    },
  };
}
