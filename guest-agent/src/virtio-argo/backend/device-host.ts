// SPDX-License-Identifier: Apache-2.0
/**
 * `DeviceHost`: a back-end (driver-domain) guest's device server — what QEMU is to the
 * VirtIO-Argo proposal (virtio-argo.md §1.3 "BE VirtIO-Argo back-end", §4.1 "a BE guest runs
 * device models"). It hosts every device its own VARG table lists in the back-end role: a
 * virtio-blk backed by a raw image file (created on demand, sparse, under `imageDir`), a
 * virtio-net port on the host's one L2 switch (so its front ends can reach each other), a
 * virtio-console whose output goes to a `ConsoleLog`. `apply(entries)` reconciles the running
 * devices with a (re-read) table: new entries start, vanished ones stop — that is hot-add and
 * removal. A device that cannot start (its ring refused by MAC, a bad image path) is logged
 * and skipped; the others keep serving.
 */
import { mkdir } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { pino, type Logger } from "pino";
import { type VirtioDevice, VirtioDeviceId, ViolationLog } from "@hmx/virtio";
import { BlkDevice, FileBlockBackend } from "@hmx/virtio/blk";
import { ConsoleDevice } from "@hmx/virtio/console";
import { parseMac, L2Switch, NetDevice } from "@hmx/virtio/net";
import type { VargDevice } from "../discovery/varg-reader.js";
import type { VioaHub } from "../channel/vioa-hub.js";
import { ConsoleLog } from "./console-log.js";
import { HostedDevice } from "./hosted-device.js";

export interface DeviceHostOptions {
  readonly hub: VioaHub;
  /** Directory of the blk images (the table's option is a path relative to it). */
  readonly imageDir: string;
  /** Where console output and input files live (none: memory only). */
  readonly consoleDir?: string;
  readonly logger?: Logger;
  /** Shared violation counters (default: one per host). */
  readonly violations?: ViolationLog;
}

/** One hosted device and what it is. */
export interface HostedEntry {
  readonly key: string;
  readonly entry: VargDevice;
  readonly hosted: HostedDevice;
  readonly close: () => Promise<void>;
}

/** Aggregate counters for "guest stats". */
export interface DeviceHostStats {
  devices: number;
  frontends: number;
  blkReads: number;
  blkWrites: number;
  blkBytesRead: number;
  blkBytesWritten: number;
  netFramesSwitched: number;
  consoleBytes: number;
  controlRequests: number;
  availChains: number;
  usedChains: number;
  violations: number;
  startFailures: number;
}

/** Serves the devices of the back-end role (see the module comment). */
export class DeviceHost {
  readonly switch = new L2Switch();
  readonly consoles: ConsoleLog;
  readonly violations: ViolationLog;
  readonly #hub: VioaHub;
  readonly #imageDir: string;
  readonly #log: Logger;
  readonly #devices = new Map<string, HostedEntry>();
  #startFailures = 0;
  #applying: Promise<void> = Promise.resolve();

  constructor(o: DeviceHostOptions) {
    this.#hub = o.hub;
    this.#imageDir = o.imageDir;
    this.#log = o.logger ?? pino({ level: "silent" });
    this.violations = o.violations ?? new ViolationLog({ logger: this.#log });
    this.consoles = new ConsoleLog(o.consoleDir === undefined ? {} : { dir: o.consoleDir });
  }

  /** The running devices. */
  get devices(): HostedEntry[] {
    return [...this.#devices.values()];
  }

  /** Finds a hosted device by front-end domid and index. */
  find(frontendDomid: number, devIndex: number): HostedEntry | undefined {
    return this.#devices.get(keyOf(frontendDomid, devIndex));
  }

  /** Reconciles the running devices with the table's back-end entries (serialised). */
  apply(entries: readonly VargDevice[]): Promise<void> {
    const run = async (): Promise<void> => {
      const wanted = new Map(
        entries.filter((e) => e.role === 2).map((e) => [keyOf(e.peerDomid, e.devIndex), e]),
      );
      for (const [key, d] of [...this.#devices]) {
        const e = wanted.get(key);
        if (e?.bePort !== d.entry.bePort || e.deviceId !== d.entry.deviceId) {
          this.#devices.delete(key);
          await d.close();
          this.#log.info(
            { frontend: d.entry.peerDomid, devIndex: d.entry.devIndex },
            "virtio device removed",
          );
        }
      }
      for (const [key, e] of wanted) {
        if (this.#devices.has(key)) continue;
        try {
          const started = await this.#start(key, e);
          this.#devices.set(key, started);
          this.#log.info(
            { frontend: e.peerDomid, devIndex: e.devIndex, deviceId: e.deviceId, name: e.name },
            "virtio device hosted",
          );
        } catch (err) {
          this.#startFailures++;
          this.#log.warn(
            { err, frontend: e.peerDomid, devIndex: e.devIndex, deviceId: e.deviceId },
            "cannot host virtio device",
          );
        }
      }
    };
    const p = this.#applying.then(run, run);
    this.#applying = p.catch(() => undefined);
    return p;
  }

  /** Stops every device. */
  async close(): Promise<void> {
    await this.#applying;
    for (const d of [...this.#devices.values()]) await d.close();
    this.#devices.clear();
    this.consoles.close();
  }

  stats(): DeviceHostStats {
    const s: DeviceHostStats = {
      devices: this.#devices.size,
      frontends: new Set(this.devices.map((d) => d.entry.peerDomid)).size,
      blkReads: 0,
      blkWrites: 0,
      blkBytesRead: 0,
      blkBytesWritten: 0,
      netFramesSwitched: this.switch.stats.forwarded + this.switch.stats.flooded,
      consoleBytes: 0,
      controlRequests: 0,
      availChains: 0,
      usedChains: 0,
      violations: this.violations.stats.total,
      startFailures: this.#startFailures,
    };
    for (const d of this.#devices.values()) {
      const dev = d.hosted.device;
      s.controlRequests += d.hosted.stats.controlRequests;
      s.availChains += d.hosted.stats.availChains;
      s.usedChains += d.hosted.stats.usedChains;
      if (dev instanceof BlkDevice) {
        s.blkReads += dev.stats.reads;
        s.blkWrites += dev.stats.writes;
        s.blkBytesRead += dev.stats.bytesRead;
        s.blkBytesWritten += dev.stats.bytesWritten;
      } else if (dev instanceof ConsoleDevice) {
        s.consoleBytes += dev.stats.outputBytes;
      }
    }
    return s;
  }

  async #start(key: string, e: VargDevice): Promise<HostedEntry> {
    let device: VirtioDevice;
    let cleanup: () => Promise<void> = () => Promise.resolve();
    const name = `${e.name}:${e.devIndex}`;
    switch (e.deviceId) {
      case VirtioDeviceId.block: {
        const path = this.#imagePath(e.option);
        // Images are created on demand, directory included.
        await mkdir(dirname(path), { recursive: true });
        const backend = await FileBlockBackend.open(path, {
          capacitySectors: Number(e.capacitySectors),
          readOnly: e.readOnly,
        });
        device = new BlkDevice({
          backend,
          name: `blk:${name}`,
          id: `${e.name}-${e.devIndex}`,
          readOnly: e.readOnly,
          queueSize: e.queueSizeMax,
        });
        cleanup = () => backend.close();
        break;
      }
      case VirtioDeviceId.net:
        device = new NetDevice({
          switch: this.switch,
          mac: parseMac(e.mac),
          name: `net:${name}`,
          queueSize: e.queueSizeMax,
        });
        break;
      case VirtioDeviceId.console: {
        const ckey = ConsoleLog.key(e.peerDomid, e.name);
        const console = new ConsoleDevice({
          name: `console:${name}`,
          queueSize: e.queueSizeMax,
          onOutput: (bytes) => {
            this.consoles.output(ckey, bytes);
          },
        });
        this.consoles.attach(ckey, (bytes) => {
          console.sendInput(bytes);
        });
        device = console;
        cleanup = () => {
          this.consoles.detach(ckey);
          return Promise.resolve();
        };
        break;
      }
      default:
        throw new Error(`device type ${e.deviceId} is not hosted here`);
    }
    const hosted = new HostedDevice({
      hub: this.#hub,
      binding: {
        devIndex: e.devIndex,
        frontendDomid: e.peerDomid,
        bePort: e.bePort,
        fePort: e.fePort,
        ringLen: e.ringLen,
      },
      device,
      violations: this.violations,
    });
    try {
      await hosted.start();
    } catch (err) {
      await cleanup();
      throw err;
    }
    return {
      key,
      entry: e,
      hosted,
      close: async () => {
        await hosted.stop();
        if (device instanceof NetDevice) device.detach();
        await cleanup();
      },
    };
  }

  /** The image path, confined to `imageDir` (the table is trusted, but not with `..`). */
  #imagePath(option: string): string {
    const rel = normalize(option);
    if (option === "" || isAbsolute(rel) || rel.startsWith(".."))
      throw new Error(`image path ${JSON.stringify(option)} escapes the image directory`);
    return join(this.#imageDir, rel);
  }
}

function keyOf(frontendDomid: number, devIndex: number): string {
  return `${frontendDomid}:${devIndex}`;
}
