// SPDX-License-Identifier: Apache-2.0
/**
 * Assembles a running hypervisor: the pure core (domains, memory, Argo), the event channel, the
 * dispatcher, and two gRPC servers — the guest-facing `hmx.argo.v1.Hypervisor` and the
 * toolstack on its own listener — each with the standard gRPC health service. `stop()` drains
 * and then cuts, and tears every domain down in `argo_destroy` order.
 */
import * as grpc from "@grpc/grpc-js";
import {
  MAX_GRPC_MESSAGE_BYTES,
  hypervisorPackageDefinition,
  loadToolstackProto,
  toolstackPackageDefinition,
} from "@hmx/proto";
import { installPreframedWrites } from "@hmx/proto/grpc-preframed";
import { HealthImplementation } from "grpc-health-check";
import { lstatSync, unlinkSync } from "node:fs";
import type { Logger } from "pino";
import type { HypervisorConfig } from "./config.js";
import { createHypervisorCore, type HypervisorCore } from "./core.js";
import { HypercallDispatcher } from "./dispatch/dispatcher.js";
import { HeldBytesLedger } from "./dispatch/held-bytes.js";
import { EventChannel } from "./events/event-channel.js";
import { Admission, controlAdmission, guestAdmission } from "./grpc/admission.js";
import { AdminAuth, bearerToken } from "./grpc/auth.js";
import { createGuestService } from "./grpc/guest-service.js";
import { GuestStreams } from "./grpc/guest-streams.js";
import { guestServiceDefinition } from "./grpc/lazy-batch.js";
import { EnrolmentService } from "./fleet/enrolment.js";
import { EnrolmentDevices } from "./fleet/enrolment-devices.js";
import { createMacService } from "./grpc/mac-service.js";
import { adminUnary, createToolstackService } from "./grpc/toolstack-service.js";
import { createFaultService } from "./grpc/fault-service.js";
import { FaultControl } from "./faults/fault-control.js";
import { DeviceManager } from "./devices/device-manager.js";
import { Audit } from "./mac/audit.js";
import { MacController } from "./mac/mac-controller.js";
import { compilePolicy } from "./mac/policy.js";
import { formatDiagnostic } from "./mac/policy-parser.js";
import { addReflection } from "./grpc/reflection.js";
import { createObservability } from "./observability/observability.js";
import { LinkFaults, identifyLinks } from "./faults/link-faults.js";
import { ToxiproxyApi } from "./faults/toxiproxy-api.js";
import { ArgoFaults } from "./faults/argo-faults.js";
import { FaultingScheduler } from "./faults/faulting-scheduler.js";
import { FairScheduler } from "./dispatch/scheduler.js";
import { randomSeed } from "./faults/seeded-random.js";
import type { FaultEvent } from "./faults/fault-events.js";
import { openState } from "./state/open-state.js";
import {
  STATE_CHANGING_GUEST_CALLS,
  STATE_CHANGING_TOOLSTACK_CALLS,
  refuseWhileDegraded,
} from "./state/refuse-while-degraded.js";
import type { StateStore } from "./state/state-store.js";

/** Fully qualified service names, as the health service reports them. */
export const GUEST_SERVICE_NAME = "hmx.argo.v1.Hypervisor";
export const TOOLSTACK_SERVICE_NAME = "hmx.toolstack.v1.Toolstack";

export interface RunningHypervisor {
  /** Actual guest-facing address, "host:port". */
  readonly listen: string;
  /** Actual toolstack address, "host:port". */
  readonly controlListen: string;
  /** The harness HTTP listener's "host:port", when `--http-listen` is given. */
  readonly httpListen?: string;
  readonly core: HypervisorCore;
  /** The MAC stack (XSM module, policy, firewall, audit) the core calls. */
  readonly mac: MacController;
  /** VirtIO device placement and the virtual ACPI tables at gfn 0. */
  readonly devices: DeviceManager;
  /** The link-fault engine, with `--link-faults` or `--toxiproxy-listen` (docs/chaos.md). */
  readonly linkFaults?: LinkFaults;
  /** The Argo-level fault engine: partitions, -EAGAIN storms, delays, late VIRQs, pauses. */
  readonly argoFaults: ArgoFaults;
  /** Actual address of the Toxiproxy-compatible API, "host:port", if it listens. */
  readonly toxiproxyListen?: string;
  /** The `--state-dir` journal, when one is kept (docs/state.md). */
  readonly state?: StateStore;
  /** Graceful stop: NOT_SERVING, end streams, drain until the deadline, then force. */
  stop(): Promise<void>;
}

const SERVER_OPTIONS: grpc.ServerOptions = {
  // Replies as large as a 16 MiB ReadMemory; requests are bounded by each listener's Admission.
  "grpc.max_send_message_length": MAX_GRPC_MESSAGE_BYTES,
  // Detect dead guests whose link dropped silently (ecosystem.md §3.2).
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 1_000,
};

/** Listens through the listener's admission gate (a stale Unix socket is removed first). */
function bind(admission: Admission, server: grpc.Server, address: string): Promise<string> {
  if (address.startsWith("unix:")) removeStaleSocket(address.slice("unix:".length));
  return admission.listen(server, address);
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
  // History and metrics; a no-op observer unless --http-listen or --history-file asks.
  const observability = createObservability(
    config,
    {
      domids: () => core.domains.list().map((d) => d.domid),
      ringCount: (domid) => {
        const d = core.domains.get(domid);
        return d === undefined ? 0 : core.argo.ringCount(d);
      },
      streams: (domid, kind) => streams.count(domid, kind),
      // The dashboard's /v1/state (ring fill levels, link faults).
      domains: () => core.domains.list(),
      rings: (d) => core.argo.listRings(d),
      links: () => linkFaults?.list(),
      activeFaults: () =>
        argoFaults.size +
        (linkFaults
          ?.list()
          .reduce((n, link) => n + link.toxics.length + (link.enabled ? 0 : 1), 0) ?? 0),
    },
    log,
  );
  const { observer } = observability;
  const events = new EventChannel(observer);
  const mac = createMac(config, log);
  const core = createHypervisorCore({
    argo: { enabled: config.argoEnabled, macPermissive: config.argoMacPermissive },
    maxTotalMemoryBytes: config.maxTotalMemoryBytes,
    maxDomainMemoryBytes: config.maxDomainMemoryBytes,
    virq: events,
    mac,
  });
  core.domains.addHooks({
    created: (d) => {
      observer.domain(d, "created");
    },
    destroying: (d) => {
      events.forget(d.domid);
      observer.domain(d, "destroyed");
    },
  });
  if (observability.recorder !== undefined)
    mac.audit.subscribe((r) => {
      observer.macDenial(r);
    });

  const argoLog = log.child({ component: "argo" });
  const dispatcher = new HypercallDispatcher(
    core.argo,
    argoLog,
    {
      maxEntries: config.resumeWindow,
      maxBytes: config.resumeLogMaxBytes,
    },
    observer,
  );
  const streams = new GuestStreams(observer);
  // A revoked credential ends what it opened at once: the old holder keeps no Session.
  core.domains.addHooks({
    credentialRevoked: (d) => {
      streams.endAll(
        grpc.status.UNAUTHENTICATED,
        `domain ${d.domid}'s credential was replaced`,
        d.domid,
      );
    },
  });
  const held = new HeldBytesLedger(
    config.domainHeldBytes,
    (domid) => {
      const domain = core.domains.get(domid);
      return domain === undefined ? 0 : dispatcher.resumeLogBytes(domain);
    },
    (domid) => {
      scheduler.wake(domid);
    },
  );
  const argoFaults = new ArgoFaults({
    registry: core.domains,
    seed: config.linkFaults?.seed ?? config.faultSeed ?? randomSeed(),
    log: log.child({ component: "faults" }),
    wakeWaiters: (d) => {
      core.argo.wakeWaiters(d);
    },
    released: (domid) => {
      if (scheduler instanceof FaultingScheduler) scheduler.release(domid);
      scheduler.wake(domid);
      events.release(domid);
    },
  });
  // Without the engine (the idle-cost bench's baseline) nothing consults it.
  const engine = config.argoFaultEngine !== false;
  if (engine) {
    core.argo.attachFaults(argoFaults);
    events.attachFaults(argoFaults);
  }
  // The VIRQs a round raised leave as soon as its hypercalls have returned (events/).
  const roundEnded = (): void => {
    events.deliverNow();
  };
  // A paused domain's vCPU runs no hypercall; a delayed one's start late (faults/).
  const scheduler = engine
    ? new FaultingScheduler(argoFaults, {
        sliceUnits: config.scheduleSliceUnits,
        isBlocked: (domid) => held.isOver(domid) || argoFaults.isPaused(domid),
        roundEnded,
      })
    : new FairScheduler({
        sliceUnits: config.scheduleSliceUnits,
        isBlocked: (domid) => held.isOver(domid),
        roundEnded,
      });
  core.domains.addHooks({
    destroying: (d) => {
      scheduler.forget(d.domid);
      held.forget(d.domid);
    },
  });
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
  // After the services whose inputs the journal replays (and whose hooks replay must run).
  const state = openState(
    config,
    core,
    dispatcher,
    observability,
    { mac, devices, enrolment },
    log,
  );
  /** While the journal cannot write, RPCs that change state get UNAVAILABLE (docs/state.md). */
  const whileDegraded = <T extends object>(
    handlers: T,
    methods: readonly string[],
    authorised: (metadata: grpc.Metadata) => boolean,
  ): T =>
    state === undefined
      ? handlers
      : refuseWhileDegraded(handlers, methods, { failure: () => state.failure, authorised });
  let stopping = false;
  const linkFaults =
    config.linkFaults === undefined
      ? undefined
      : new LinkFaults({
          registry: core.domains,
          seed: config.linkFaults.seed,
          log: log.child({ component: "faults" }),
        });
  // Every fault's start and end is a `fault` event in the history (DESIGN §3.5).
  const recordFault = (e: FaultEvent): void => {
    observer.fault(e.action === "end" ? "stop" : "start", `${e.target}/${e.fault}`, {
      faultKind: e.kind,
      target: e.target,
      action: e.action,
      spec: e.detail,
    });
  };
  linkFaults?.onFaultEvent(recordFault);
  argoFaults.onFaultEvent(recordFault);

  // Session frames go out where its codecs wrote them, not copied once more by grpc-js.
  if (!installPreframedWrites().server) {
    log.warn(
      "Session frames are copied to be sent: grpc-js's framing was not where expected, or HMX_PREFRAMED_WRITES=0",
    );
  }
  const guestAdmit = new Admission(config.admission, guestAdmission(core.domains, enrolment));
  const guestServer = new grpc.Server({ ...SERVER_OPTIONS, ...guestAdmit.serverOptions() });
  const guestHealth = new HealthImplementation({
    "": "NOT_SERVING",
    [GUEST_SERVICE_NAME]: "NOT_SERVING",
  });
  guestHealth.addToServer(guestServer);
  guestServer.addService(
    guestServiceDefinition(),
    identifyLinks(
      linkFaults,
      whileDegraded(
        createGuestService({
          registry: core.domains,
          dispatcher,
          events,
          streams,
          scheduler,
          held,
          log: argoLog,
          maxBatch: config.maxBatch,
          isStopping: () => stopping,
          enrolment,
        }),
        STATE_CHANGING_GUEST_CALLS,
        (metadata) => enrolment.isToken(bearerToken(metadata) ?? ""),
      ),
    ),
  );
  addReflection(guestServer, hypervisorPackageDefinition(), [GUEST_SERVICE_NAME]);

  const adminAuth = new AdminAuth(config.adminToken);
  const macService = createMacService({
    mac,
    registry: core.domains,
    auth: adminAuth,
    log: toolstackLog,
  });
  const faultService = createFaultService(
    new FaultControl(argoFaults, linkFaults),
    adminAuth,
    adminUnary({ auth: adminAuth, log: toolstackLog }),
  );
  const controlAdmit = new Admission(config.admission, controlAdmission(adminAuth));
  const controlServer = new grpc.Server({ ...SERVER_OPTIONS, ...controlAdmit.serverOptions() });
  const controlHealth = new HealthImplementation({
    "": "NOT_SERVING",
    [TOOLSTACK_SERVICE_NAME]: "NOT_SERVING",
  });
  controlHealth.addToServer(controlServer);
  controlServer.addService(
    loadToolstackProto().hmx.toolstack.v1.Toolstack.service,
    whileDegraded(
      createToolstackService({
        registry: core.domains,
        argo: core.argo,
        streams,
        auth: adminAuth,
        log: toolstackLog,
        mac: macService.handlers,
        devices,
        faults: faultService.handlers,
      }),
      STATE_CHANGING_TOOLSTACK_CALLS,
      (metadata) => {
        try {
          adminAuth.check(metadata);
          return true;
        } catch {
          return false;
        }
      },
    ),
  );
  addReflection(controlServer, toolstackPackageDefinition(), [TOOLSTACK_SERVICE_NAME]);

  let listen: string;
  let controlListen: string;
  let httpListen: string | undefined;
  let toxiproxyListen: string | undefined;
  const toxiproxyApi =
    config.linkFaults?.toxiproxyListen === undefined || linkFaults === undefined
      ? undefined
      : new ToxiproxyApi(linkFaults);
  try {
    // With link faults the fault relay (faults/) listens and hands each relayed connection to
    // the gRPC server; admission still gates every one.
    if (linkFaults === undefined) listen = await bind(guestAdmit, guestServer, config.listen);
    else {
      if (config.listen.startsWith("unix:")) removeStaleSocket(config.listen.slice("unix:".length));
      listen = await linkFaults.listen(config.listen, guestAdmit.injector(guestServer));
      log.info({ seed: linkFaults.seed }, "link faults on");
    }
    toxiproxyListen = await toxiproxyApi?.listen(config.linkFaults?.toxiproxyListen ?? "");
    controlListen = await bind(controlAdmit, controlServer, config.controlListen);
    httpListen = await observability.start(adminAuth, () => !stopping);
  } catch (err) {
    guestServer.forceShutdown();
    controlServer.forceShutdown();
    guestAdmit.close();
    controlAdmit.close();
    await linkFaults?.close();
    await toxiproxyApi?.close();
    state?.close();
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
    ...(httpListen === undefined ? {} : { httpListen }),
    core,
    mac,
    devices,
    argoFaults,
    ...(state === undefined ? {} : { state }),
    ...(linkFaults === undefined ? {} : { linkFaults }),
    ...(toxiproxyListen === undefined ? {} : { toxiproxyListen }),
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        setHealth("NOT_SERVING");
        enrolment.stop();
        argoFaults.clearAll();
        streams.endAll(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
        macService.endWatchers(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
        faultService.endWatchers(grpc.status.UNAVAILABLE, "hypervisor is shutting down");
        await Promise.all([
          shutdown(guestServer, config.shutdownDeadlineMs),
          shutdown(controlServer, config.shutdownDeadlineMs),
        ]);
        guestAdmit.close();
        controlAdmit.close();
        log.info(
          { guest: guestAdmit.counters, control: controlAdmit.counters },
          "admission refusals",
        );
        await Promise.all([linkFaults?.close(), toxiproxyApi?.close()]);
        // The journal is final before teardown: a clean stop keeps every domain for the next run.
        state?.close();
        // Teardown in argo_destroy order for every domain still alive.
        for (const domain of core.domains.list()) core.domains.destroy(domain.domid);
        await observability.stop();
        log.info("hypervisor stopped");
      })();
      return stopped;
    },
  };
}
