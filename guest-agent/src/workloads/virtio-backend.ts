// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-backend workload: this guest is a driver domain (virtio-argo.md §4.1, QEMU's role
 * in the VirtIO-Argo proposal). It reads its own VARG table at gfn 0, hosts every device listed
 * there in the back-end role (`DeviceHost`: blk on raw image files under `imageDir`, net on one
 * L2 switch, console output to `consoleDir`), follows hot-add and removal through device events,
 * and keeps its stats current for the "guest stats" line until stopped.
 */
import type { Logger } from "pino";
import type { HypercallClient } from "../hypercall/hypercall-client.js";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { DeviceWatcher } from "../virtio-argo/discovery/device-watcher.js";
import { readDeviceTable } from "../virtio-argo/discovery/varg-reader.js";
import { DeviceHost, type DeviceHostStats } from "../virtio-argo/backend/device-host.js";
import { VioaHub } from "../virtio-argo/channel/vioa-hub.js";
import type { WorkloadBaseOptions } from "./common.js";

export interface VirtioBackendOptions extends WorkloadBaseOptions {
  readonly client: HypercallClient;
  /** The hypervisor's guest-facing address and our credential (for WatchEvents). */
  readonly address: string;
  readonly credential: string;
  readonly imageDir: string;
  readonly consoleDir?: string;
  readonly log: Logger;
}

export type VirtioBackendStats = DeviceHostStats & { tableGeneration: number; tableErrors: number };

export function newVirtioBackendStats(): VirtioBackendStats {
  return {
    devices: 0,
    frontends: 0,
    blkReads: 0,
    blkWrites: 0,
    blkBytesRead: 0,
    blkBytesWritten: 0,
    netFramesSwitched: 0,
    consoleBytes: 0,
    controlRequests: 0,
    availChains: 0,
    usedChains: 0,
    violations: 0,
    startFailures: 0,
    tableGeneration: 0,
    tableErrors: 0,
  };
}

/** Hosts the table's devices until `options.signal` aborts. */
export async function runVirtioBackend(
  endpoint: ArgoEndpoint,
  o: VirtioBackendOptions,
  stats: VirtioBackendStats,
): Promise<void> {
  const hub = new VioaHub(endpoint);
  const host = new DeviceHost({
    hub,
    imageDir: o.imageDir,
    logger: o.log.child({ component: "virtio-host" }),
    ...(o.consoleDir === undefined ? {} : { consoleDir: o.consoleDir }),
  });
  const refresh = (): void => {
    Object.assign(stats, host.stats());
  };
  const timer = setInterval(refresh, 250);
  let watcher: DeviceWatcher | undefined;
  try {
    const first = await readDeviceTable(o.client);
    if (first.ok) {
      stats.tableGeneration = first.table.generation;
      await host.apply(first.table.devices);
    } else {
      stats.tableErrors++;
      o.log.warn({ reason: first.reason }, "virtual ACPI device table rejected");
    }
    watcher = new DeviceWatcher({
      address: o.address,
      credential: o.credential,
      client: o.client,
      generation: first.ok ? first.table.generation : -1,
      onTable: async (t) => {
        stats.tableGeneration = t.generation;
        await host.apply(t.devices);
      },
      onError: (reason) => {
        stats.tableErrors++;
        o.log.warn({ reason }, "virtual ACPI device table rejected");
      },
    });
    refresh();
    o.onReady?.({ aport: 0, partner: 0 });
    if (!o.signal.aborted) {
      await new Promise<void>((resolve) => {
        o.signal.addEventListener(
          "abort",
          () => {
            resolve();
          },
          { once: true },
        );
      });
    }
  } finally {
    clearInterval(timer);
    watcher?.close();
    refresh();
    await host.close();
    await hub.close();
  }
}
