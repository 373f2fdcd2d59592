// SPDX-License-Identifier: Apache-2.0
/**
 * `FrontendDevices`: a front-end guest's virtio bus over Argo — enumeration from the VARG table
 * at gfn 0 (virtio-argo.md §4.4: "The FE transport enumerates entries and registers its rings,
 * then sends DEVICE_INFO"), one `ArgoTransport` per front-end entry, and the matching driver
 * (`BlkDriver`, `NetDriver`, `ConsoleDriver`) on top, exactly as on the loopback transport.
 * `apply(table)` reconciles with a re-read table: that is hot-add and removal.
 *
 * Every device gets its own DMA region: a page run from the guest's allocator, adopted zeroed
 * into one `ShadowGuestRam` shared by all devices (the driver's rings and buffers; flushed
 * before every sendv). A device whose probe fails — MAC denial, a back end that never shows
 * up, a type mismatch — is kept as FAILED with its errno and reason on record (`devices`), so a
 * denied device "fails its probe cleanly" and the others still work.
 */
import type { Logger } from "pino";
import { pino } from "pino";
import type { HypercallClient } from "../../hypercall/hypercall-client.js";
import type { PageAllocator, PageRun } from "../../libargo/page-allocator.js";
import { VirtioDeviceId } from "../device.js";
import { BlkDriver } from "../drivers/blk/blk-driver.js";
import { ConsoleDriver } from "../drivers/console/console-driver.js";
import { NetDriver } from "../drivers/net/net-driver.js";
import { DmaAllocator } from "../memory/dma-allocator.js";
import { ShadowGuestRam } from "../memory/shadow-guest-ram.js";
import { ArgoTransport, errnoOf } from "../transport/argo/argo-transport.js";
import { errnoName } from "../transport/argo/transport-error.js";
import { VioaHub } from "../transport/argo/vioa-hub.js";
import { ViolationLog } from "../violation-log.js";
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
    };

export interface FrontendDevicesOptions {
  readonly client: HypercallClient;
  readonly allocator: PageAllocator;
  /** Guest memory size (for the shadow's bounds). */
  readonly memoryBytes: number;
  readonly logger?: Logger;
  readonly timeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly probeTimeoutMs?: number;
  /** DMA bytes per device type (defaults: blk 3 MiB, net 512 KiB, console 256 KiB). */
  readonly dmaBytes?: Partial<Record<"blk" | "net" | "console", number>>;
}

const DMA_DEFAULTS = { blk: 3 * 1024 * 1024, net: 512 * 1024, console: 256 * 1024 };

/** The front end's virtio devices over Argo (see the module comment). */
export class FrontendDevices {
  readonly hub: VioaHub;
  readonly ram: ShadowGuestRam;
  readonly violations: ViolationLog;
  readonly #o: FrontendDevicesOptions;
  readonly #log: Logger;
  readonly #devices = new Map<string, { device: FrontendDevice; run: PageRun }>();
  #applying: Promise<void> = Promise.resolve();

  constructor(o: FrontendDevicesOptions) {
    this.#o = o;
    this.#log = o.logger ?? pino({ level: "silent" });
    this.hub = new VioaHub(o.client, o.allocator, this.#log);
    this.ram = new ShadowGuestRam(o.client, o.memoryBytes);
    this.violations = new ViolationLog({ logger: this.#log });
  }

  get devices(): FrontendDevice[] {
    return [...this.#devices.values()].map((d) => d.device);
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

  #find(type: number, name?: string): FrontendDriver | undefined {
    for (const d of this.devices) {
      if (
        d.state === "ready" &&
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
      const wanted = new Map(
        table.devices.filter((e) => e.role === 1).map((e) => [`${e.devIndex}`, e]),
      );
      for (const [key, d] of [...this.#devices]) {
        const e = wanted.get(key);
        if (e?.bePort !== d.device.entry.bePort || e.peerDomid !== d.device.entry.peerDomid) {
          this.#devices.delete(key);
          await this.#close(d.device, d.run);
          this.#log.info(
            { devIndex: d.device.entry.devIndex, name: d.device.entry.name },
            "virtio device removed",
          );
        }
      }
      // Probes run concurrently: a device whose back end is slow does not hold up the others.
      await Promise.all(
        [...wanted]
          .filter(([key]) => !this.#devices.has(key))
          .map(async ([key, e]) => {
            const r = await this.#probe(e);
            this.#devices.set(key, r);
          }),
      );
    };
    const p = this.#applying.then(run, run);
    this.#applying = p.catch(() => undefined);
    return p;
  }

  /** Closes every driver and transport and the hub. */
  async close(): Promise<void> {
    await this.#applying;
    for (const d of this.#devices.values()) await this.#close(d.device, d.run);
    this.#devices.clear();
    await this.hub.close();
  }

  async #probe(e: VargDevice): Promise<{ device: FrontendDevice; run: PageRun }> {
    const kind =
      e.deviceId === VirtioDeviceId.block
        ? "blk"
        : e.deviceId === VirtioDeviceId.net
          ? "net"
          : "console";
    const bytes = this.#o.dmaBytes?.[kind] ?? DMA_DEFAULTS[kind];
    const run = this.#o.allocator.allocate(Math.ceil(bytes / 4096));
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
      this.#log.info(
        { devIndex: e.devIndex, name: e.name, deviceId: e.deviceId, backend: e.peerDomid },
        "virtio device ready",
      );
      return { device: { entry: e, state: "ready", transport, driver }, run };
    } catch (err) {
      const f = transport?.failure;
      const errno = f?.errno ?? errnoOf(err);
      const reason = f?.reason ?? (err instanceof Error ? err.message : String(err));
      this.#log.warn(
        {
          devIndex: e.devIndex,
          name: e.name,
          deviceId: e.deviceId,
          backend: e.peerDomid,
          errno: errnoName(errno),
          reason,
        },
        "virtio device probe failed",
      );
      await transport?.close();
      return { device: { entry: e, state: "failed", errno, code: errnoName(errno), reason }, run };
    }
  }

  async #close(d: FrontendDevice, run: PageRun): Promise<void> {
    if (d.state === "ready") {
      await d.driver.core.close().catch(() => undefined);
      await d.transport.close();
    }
    // The pages stay out of the allocator on purpose if a ring might still reference them: only
    // DMA pages are returned here, and only once the transport is closed.
    this.ram.evict(run.gpa, run.bytes);
    this.#o.allocator.free(run);
  }
}
