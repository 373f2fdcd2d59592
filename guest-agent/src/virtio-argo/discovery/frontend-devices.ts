// SPDX-License-Identifier: Apache-2.0
/**
 * `FrontendDevices`: a front-end guest's virtio bus over Argo — enumeration from the VARG table
 * at gfn 0 (virtio-argo.md §4.4: "The FE transport enumerates entries and registers its rings,
 * then sends DEVICE_INFO"), one `ArgoTransport` per front-end entry, and the matching driver
 * (`BlkDriver`, `NetDriver`, `ConsoleDriver`) on top, exactly as on the loopback transport.
 * `apply(table)` reconciles with a re-read table: that is hot-add and removal.
 *
 * Every device gets its own DMA region: a page run from the guest's allocator, adopted zeroed
 * into one `ShadowGuestRam` shared by all devices (the driver's rings and buffers; their dirty
 * bytes go first in the multicall of every send). A device whose probe fails — MAC denial, a back end that never shows
 * up, a type mismatch — is kept as FAILED with its errno and reason on record (`devices`), so a
 * denied device "fails its probe cleanly" and the others still work.
 *
 * Recovery (docs/virtio-argo.md "Recovery"). A device is not probed once and forgotten: when a
 * ready device's driver fails (a request timed out, DEVICE_NEEDS_RESET, or the periodic
 * liveness check finds the device reset under it — its back end restarted), the device is
 * reported FAILED with the reason at once (so `blk()` & co. stop handing it out and the
 * counts are honest), its driver and transport are closed, and it is probed again after a
 * backoff (`reprobe-backoff.ts`: 0.5 s doubling to 10 s), and again, for as long as the table
 * lists it, until its back end answers; then it is ready with a fresh driver. A device whose
 * first probe failed is re-probed the same way — unless the probe was refused (MAC, another
 * device type): that is configuration, not an outage. One warning per outage, not per re-probe.
 */
import type { Logger } from "pino";
import { pino } from "pino";
import type { ArgoEndpoint } from "../../libargo/argo-endpoint.js";
import type { PageRun } from "../../libargo/page-allocator.js";
import {
  VirtioDeviceId,
  BlkDriver,
  ConsoleDriver,
  NetDriver,
  DmaAllocator,
  ViolationLog,
} from "@hmx/virtio";
import { ShadowGuestRam } from "../frontend/shadow-guest-ram.js";
import { ArgoTransport, errnoOf } from "../frontend/argo-transport.js";
import { TransportErrno, errnoName } from "../wire/transport-error.js";
import { VioaHub } from "../channel/vioa-hub.js";
import {
  DEFAULT_REPROBE_BACKOFF,
  checkReprobeBackoff,
  reprobeDelayMs,
  type ReprobeBackoff,
} from "./reprobe-backoff.js";
import type { VargDevice, VargTable } from "./varg-reader.js";

export type FrontendDriver = BlkDriver | NetDriver | ConsoleDriver;

/** One front-end device and how its probe went. */
export type FrontendDevice =
  | {
      readonly entry: VargDevice;
      readonly state: "ready";
      readonly transport: ArgoTransport;
      readonly driver: FrontendDriver;
    }
  | {
      readonly entry: VargDevice;
      readonly state: "failed";
      readonly errno: number;
      readonly code: string;
      readonly reason: string;
      /** Probes tried since the device last worked (0 right after a ready device failed). */
      readonly attempts: number;
      /**
       * The pause before the next re-probe; undefined when the device is not re-probed: a MAC
       * refusal or a device of another type is configuration, not an outage (a table change
       * that lists the device anew probes it again).
       */
      readonly retryInMs: number | undefined;
    };

export interface FrontendDevicesOptions {
  /** The guest's endpoint: its client, page allocator and VIRQ handling. */
  readonly endpoint: ArgoEndpoint;
  /** Guest memory size (for the shadow's bounds). */
  readonly memoryBytes: number;
  readonly logger?: Logger;
  readonly timeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly probeTimeoutMs?: number;
  /** DMA bytes per device type (defaults: blk 3 MiB, net 512 KiB, console 256 KiB). */
  readonly dmaBytes?: Partial<Record<"blk" | "net" | "console", number>>;
  /** First pause before a failed device is probed again (default 500 ms; doubles). */
  readonly reprobeMinMs?: number;
  /** Largest pause between re-probes (default 10 000 ms). */
  readonly reprobeMaxMs?: number;
  /** Period of the liveness check of ready devices (default 5000 ms; 0: none). */
  readonly healthCheckMs?: number;
  /**
   * Take failed devices back by re-probing them (default true). False leaves a device whose
   * driver failed as it is — listed ready, its transport open — for a caller that drives the
   * transport's own reset path (tests of it); a failed first probe is then not retried either.
   */
  readonly autoRecover?: boolean;
}

/** Recovery counters. */
export interface FrontendDevicesStats {
  /** Probes started (first probes and re-probes). */
  probes: number;
  /** Ready devices whose driver failed. */
  failures: number;
  /** Failed devices that a re-probe made ready again. */
  recoveries: number;
}

const DMA_DEFAULTS = { blk: 3 * 1024 * 1024, net: 512 * 1024, console: 256 * 1024 };
const DEFAULT_HEALTH_CHECK_MS = 5000;
/**
 * Probe failures that are configuration, not an outage: MAC refusals (EACCES under Flask,
 * EPERM under SILO) and a back end serving another device type. Re-probing them would only
 * add an audited denial every few seconds.
 */
const REFUSALS: ReadonlySet<number> = new Set([
  TransportErrno.EACCES,
  TransportErrno.EPERM,
  TransportErrno.ENODEV,
]);

type ReadyDevice = Extract<FrontendDevice, { state: "ready" }>;

/** One table entry's life: probes, failures and re-probes, serialised on `busy`. */
interface Slot {
  readonly entry: VargDevice;
  /** Undefined while the first probe runs. */
  device: FrontendDevice | undefined;
  /** The DMA pages of the ready device (a failed probe gives its pages back at once). */
  run: PageRun | undefined;
  busy: Promise<void>;
  timer: NodeJS.Timeout | undefined;
  removed: boolean;
  checking: boolean;
  /** Probes since the device last worked. */
  attempts: number;
  /** Re-probes scheduled since the device last worked (the backoff's step). */
  step: number;
  /** Whether this outage was logged at warn already (one line per outage, not per re-probe). */
  logged: boolean;
  /** Whether the device has ever been ready (a later success is a recovery). */
  everReady: boolean;
  /** The transport's own failure, caught when it happened (a reset may clear it later). */
  cause: { errno: number; reason: string } | undefined;
}

/** The front end's virtio devices over Argo (see the module comment). */
export class FrontendDevices {
  readonly hub: VioaHub;
  readonly ram: ShadowGuestRam;
  readonly violations: ViolationLog;
  readonly stats: FrontendDevicesStats = { probes: 0, failures: 0, recoveries: 0 };
  readonly #o: FrontendDevicesOptions;
  readonly #log: Logger;
  readonly #backoff: ReprobeBackoff;
  readonly #slots = new Map<string, Slot>();
  readonly #listeners = new Set<() => void>();
  readonly #health: NodeJS.Timeout | undefined;
  #applying: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(o: FrontendDevicesOptions) {
    this.#o = o;
    this.#log = o.logger ?? pino({ level: "silent" });
    this.#backoff = {
      minMs: o.reprobeMinMs ?? DEFAULT_REPROBE_BACKOFF.minMs,
      maxMs: o.reprobeMaxMs ?? DEFAULT_REPROBE_BACKOFF.maxMs,
    };
    checkReprobeBackoff(this.#backoff);
    const healthMs = o.healthCheckMs ?? DEFAULT_HEALTH_CHECK_MS;
    if (!Number.isFinite(healthMs) || healthMs < 0)
      throw new RangeError(`healthCheckMs must be a number >= 0, got ${healthMs}`);
    this.hub = new VioaHub(o.endpoint);
    this.ram = new ShadowGuestRam(o.endpoint.client, o.memoryBytes);
    this.violations = new ViolationLog({ logger: this.#log });
    if (healthMs > 0 && o.autoRecover !== false) {
      this.#health = setInterval(() => {
        this.#checkHealth();
      }, healthMs);
      this.#health.unref();
    }
  }

  /** Every probed device, ready or failed (a device whose first probe runs is not listed). */
  get devices(): FrontendDevice[] {
    const out: FrontendDevice[] = [];
    for (const s of this.#slots.values()) if (s.device !== undefined) out.push(s.device);
    return out;
  }

  /** The first ready driver of a kind, optionally by device name. */
  blk(name?: string): BlkDriver | undefined {
    return this.#find(VirtioDeviceId.block, name) as BlkDriver | undefined;
  }
  net(name?: string): NetDriver | undefined {
    return this.#find(VirtioDeviceId.net, name) as NetDriver | undefined;
  }
  console(name?: string): ConsoleDriver | undefined {
    return this.#find(VirtioDeviceId.console, name) as ConsoleDriver | undefined;
  }

  /**
   * Runs `f` after any device changes state (probed, failed, recovered, removed): the drivers
   * `blk()` & co. hand out may have changed. Returns the unsubscribe function.
   */
  onChange(f: () => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  #find(type: number, name?: string): FrontendDriver | undefined {
    for (const d of this.devices) {
      if (
        d.state === "ready" &&
        d.driver.core.state.kind !== "failed" &&
        d.entry.deviceId === type &&
        (name === undefined || d.entry.name === name)
      )
        return d.driver;
    }
    return undefined;
  }

  /** Probes every new front-end entry and drops vanished ones (serialised). */
  apply(table: VargTable): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.#closing !== undefined) return;
      const wanted = new Map(
        table.devices.filter((e) => e.role === 1).map((e) => [`${e.devIndex}`, e]),
      );
      for (const [key, slot] of [...this.#slots]) {
        const e = wanted.get(key);
        if (e?.bePort !== slot.entry.bePort || e.peerDomid !== slot.entry.peerDomid) {
          this.#slots.delete(key);
          await this.#retire(slot);
          this.#log.info(
            { devIndex: slot.entry.devIndex, name: slot.entry.name },
            "virtio device removed",
          );
          this.#changed();
        }
      }
      // Probes run concurrently: a device whose back end is slow does not hold up the others.
      await Promise.all(
        [...wanted]
          .filter(([key]) => !this.#slots.has(key))
          .map(([key, e]) => {
            const slot: Slot = {
              entry: e,
              device: undefined,
              run: undefined,
              busy: Promise.resolve(),
              timer: undefined,
              removed: false,
              checking: false,
              attempts: 0,
              step: 0,
              logged: false,
              everReady: false,
              cause: undefined,
            };
            this.#slots.set(key, slot);
            slot.busy = this.#attempt(slot);
            return slot.busy;
          }),
      );
    };
    const p = this.#applying.then(run, run);
    this.#applying = p.catch(() => undefined);
    return p;
  }

  /** Stops re-probing, closes every driver and transport and the hub. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#health !== undefined) clearInterval(this.#health);
      await this.#applying;
      const slots = [...this.#slots.values()];
      this.#slots.clear();
      for (const s of slots) await this.#retire(s);
      await this.hub.close();
    })();
    return this.#closing;
  }

  /** One probe of a slot's device; a failure schedules the next re-probe. Never rejects. */
  async #attempt(slot: Slot): Promise<void> {
    if (slot.removed) return;
    slot.attempts++;
    this.stats.probes++;
    const e = slot.entry;
    const r = await this.#probe(e);
    // The table may have dropped the device (or we closed) while it was being probed.
    const removed = isRemoved(slot);
    if (r.state === "ready") {
      if (removed) {
        await this.#release(r.device, r.run);
        return;
      }
      const recovered = slot.everReady || slot.attempts > 1;
      if (recovered) this.stats.recoveries++;
      this.#log.info(
        {
          devIndex: e.devIndex,
          name: e.name,
          deviceId: e.deviceId,
          backend: e.peerDomid,
          ...(recovered ? { attempts: slot.attempts } : {}),
        },
        recovered ? "virtio device recovered" : "virtio device ready",
      );
      slot.device = r.device;
      slot.run = r.run;
      slot.attempts = 0;
      slot.step = 0;
      slot.logged = false;
      slot.everReady = true;
      slot.cause = undefined;
      if (this.#o.autoRecover !== false) this.#watch(slot, r.device);
      this.#changed();
      return;
    }
    if (removed) return;
    const refused = REFUSALS.has(r.errno);
    const retryInMs = refused ? undefined : reprobeDelayMs(++slot.step, this.#backoff);
    const fields = {
      devIndex: e.devIndex,
      name: e.name,
      deviceId: e.deviceId,
      backend: e.peerDomid,
      errno: errnoName(r.errno),
      reason: r.reason,
      attempts: slot.attempts,
      retryInMs,
    };
    // One warning per outage; the re-probes that keep failing are only debug lines.
    if (refused) this.#log.warn(fields, "virtio device probe refused: not probed again");
    else if (!slot.logged) this.#log.warn(fields, "virtio device probe failed");
    else this.#log.debug(fields, "virtio device re-probe failed");
    slot.logged = true;
    slot.device = {
      entry: e,
      state: "failed",
      errno: r.errno,
      code: errnoName(r.errno),
      reason: r.reason,
      attempts: slot.attempts,
      retryInMs,
    };
    if (retryInMs !== undefined) this.#schedule(slot, retryInMs);
    this.#changed();
  }

  #schedule(slot: Slot, ms: number): void {
    if (slot.removed || this.#closing !== undefined || this.#o.autoRecover === false) return;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      slot.busy = slot.busy.then(() => this.#attempt(slot));
    }, ms);
    slot.timer.unref();
  }

  /** Follows a ready device: its driver failing makes it FAILED, closed and re-probed. */
  #watch(slot: Slot, dev: ReadyDevice): void {
    // The transport's reason (a timeout, a refused send) is clearer than the driver's
    // "DEVICE_NEEDS_RESET"; catch it when it happens, as the driver's reset may clear it.
    const off = dev.transport.onInterrupt((ev) => {
      const f = dev.transport.failure;
      if (ev.kind === "configChange" && f !== undefined) slot.cause ??= f;
    });
    dev.driver.core.onFailed((error) => {
      off();
      // Our own close of a removed device, or a device already replaced: nothing to do.
      if (slot.removed || slot.device !== dev) return;
      const f = dev.transport.failure ?? slot.cause;
      const errno = f?.errno ?? errnoOf(error);
      const reason = f === undefined ? error.message : `${f.reason} (${error.message})`;
      const retryInMs = reprobeDelayMs(++slot.step, this.#backoff);
      this.stats.failures++;
      this.#log.warn(
        {
          devIndex: dev.entry.devIndex,
          name: dev.entry.name,
          deviceId: dev.entry.deviceId,
          backend: dev.entry.peerDomid,
          errno: errnoName(errno),
          reason,
          retryInMs,
        },
        "virtio device failed: closing it and probing it again",
      );
      slot.logged = true;
      slot.device = {
        entry: dev.entry,
        state: "failed",
        errno,
        code: errnoName(errno),
        reason,
        attempts: 0,
        retryInMs,
      };
      const run = slot.run;
      slot.run = undefined;
      slot.busy = slot.busy.then(async () => {
        if (run !== undefined) await this.#release(dev, run);
        this.#schedule(slot, retryInMs);
      });
      this.#changed();
    });
  }

  /** Liveness check of every ready, idle-or-not device (see `VirtioDriver.checkDevice`). */
  #checkHealth(): void {
    for (const slot of this.#slots.values()) {
      const d = slot.device;
      if (d?.state !== "ready" || slot.checking || slot.removed) continue;
      slot.checking = true;
      void d.driver.core
        .checkDevice()
        .catch(() => undefined)
        .finally(() => {
          slot.checking = false;
        });
    }
  }

  /** Stops a slot for good: no more re-probes, the device closed, its pages back. */
  async #retire(slot: Slot): Promise<void> {
    slot.removed = true;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = undefined;
    await slot.busy;
    const d = slot.device;
    const run = slot.run;
    slot.run = undefined;
    if (d?.state === "ready" && run !== undefined) await this.#release(d, run);
  }

  #changed(): void {
    for (const f of this.#listeners) {
      try {
        f();
      } catch (err) {
        this.#log.warn({ err }, "virtio device change listener failed");
      }
    }
  }

  async #probe(
    e: VargDevice,
  ): Promise<
    | { readonly state: "ready"; readonly device: ReadyDevice; readonly run: PageRun }
    | { readonly state: "failed"; readonly errno: number; readonly reason: string }
  > {
    const kind =
      e.deviceId === VirtioDeviceId.block
        ? "blk"
        : e.deviceId === VirtioDeviceId.net
          ? "net"
          : "console";
    const bytes = this.#o.dmaBytes?.[kind] ?? DMA_DEFAULTS[kind];
    const run = this.#o.endpoint.allocator.allocate(Math.ceil(bytes / 4096));
    this.ram.adoptZeroed(run.gpa, run.bytes);
    const dma = new DmaAllocator(run.gpa, run.bytes);
    let transport: ArgoTransport | undefined;
    try {
      transport = await ArgoTransport.probe({
        hub: this.hub,
        ram: this.ram,
        dma,
        device: {
          devIndex: e.devIndex,
          deviceId: e.deviceId,
          backendDomid: e.peerDomid,
          bePort: e.bePort,
          fePort: e.fePort,
          ringLen: e.ringLen,
          name: e.name,
        },
        violations: this.violations,
        ...(this.#o.timeoutMs === undefined ? {} : { timeoutMs: this.#o.timeoutMs }),
        ...(this.#o.requestTimeoutMs === undefined
          ? {}
          : { requestTimeoutMs: this.#o.requestTimeoutMs }),
        ...(this.#o.probeTimeoutMs === undefined ? {} : { probeTimeoutMs: this.#o.probeTimeoutMs }),
      });
      const opts = { violations: this.violations };
      const driver: FrontendDriver =
        e.deviceId === VirtioDeviceId.block
          ? await BlkDriver.create(transport, opts)
          : e.deviceId === VirtioDeviceId.net
            ? await NetDriver.create(transport, opts)
            : await ConsoleDriver.create(transport, opts);
      return { state: "ready", device: { entry: e, state: "ready", transport, driver }, run };
    } catch (err) {
      const f = transport?.failure;
      const errno = f?.errno ?? errnoOf(err);
      const reason = f?.reason ?? (err instanceof Error ? err.message : String(err));
      await transport?.close();
      // The transport is closed (our ring unregistered): nothing can touch these pages now.
      this.#free(run);
      return { state: "failed", errno, reason };
    }
  }

  /** Closes a ready device's driver and transport, then gives its DMA pages back. */
  /**
   * Closes a device and frees its pages. Never rejects: it runs on a slot's `busy` chain, which
   * nobody may be awaiting (a hypervisor that lost our domain fails every hypercall here).
   */
  async #release(d: ReadyDevice, run: PageRun): Promise<void> {
    await d.driver.core.close().catch(() => undefined);
    try {
      await d.transport.close();
    } catch (err) {
      // Its rings may still be registered on those pages: keep them out of the allocator.
      this.#log.warn(
        { err, devIndex: d.entry.devIndex, name: d.entry.name },
        "virtio device did not close cleanly; its pages stay reserved",
      );
      return;
    }
    this.#free(run);
  }

  #free(run: PageRun): void {
    // Only once the transport is closed: until then a ring might still reference the pages.
    this.ram.evict(run.gpa, run.bytes);
    this.#o.endpoint.allocator.free(run);
  }
}

/** Read through a call: `removed` changes while a probe is awaited. */
function isRemoved(slot: Slot): boolean {
  return slot.removed;
}
