// SPDX-License-Identifier: Apache-2.0
/**
 * `DeviceWatcher`: hot-add and removal for a guest (virtio-argo.md §4.4: "Hotplug is an HV event
 * DEVICE_ADDED/REMOVED"). It listens to the guest's `WatchEvents` stream for `device_added` /
 * `device_removed` (the guest's Session client handles VIRQs only, so device events take the
 * plain unary-style stream any harness can also open), and on each one — and on a slow
 * backstop poll, since an event raised before this stream attached went to the domain's other
 * watcher — it re-reads the
 * table at gfn 0 and hands it on if its generation changed. The event is only a hint; the
 * checksummed table is the truth, so a lost or forged-looking event costs nothing.
 *
 * Like `platform-client.ts`, this is a guest file that touches generated proto types, for the
 * same reason: it is a plain call on the guest-facing service, not a hypercall.
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadHypervisorProto } from "@hmx/proto";
import type { Event__Output } from "@hmx/proto/gen/hmx/argo/v1/Event.js";
import type { HypervisorClient as GrpcHypervisorClient } from "@hmx/proto/gen/hmx/argo/v1/Hypervisor.js";
import type { HypercallClient } from "../../hypercall/hypercall-client.js";
import { readDeviceTable, type VargTable } from "./varg-reader.js";

export interface DeviceWatcherOptions {
  /** The hypervisor's guest-facing address. */
  readonly address: string;
  readonly credential: string;
  /** Used to re-read gfn 0. */
  readonly client: HypercallClient;
  /** A new table (generation changed). Called serially. */
  readonly onTable: (table: VargTable) => Promise<void> | void;
  /** A table that failed its checks. */
  readonly onError?: (reason: string) => void;
  /** The generation already applied (the boot read). */
  readonly generation?: number;
  /**
   * Backstop re-read period (default 2000 ms): an event raised before the stream attached
   * went to another watcher of the domain (the Session stream), so a slow poll of gfn 0
   * bounds how long such a change can go unnoticed.
   */
  readonly pollMs?: number;
}

export interface DeviceWatcherStats {
  events: number;
  tables: number;
  reconnects: number;
}

/** Watches for device events and re-reads the table (see the module comment). */
export class DeviceWatcher {
  readonly stats: DeviceWatcherStats = { events: 0, tables: 0, reconnects: 0 };
  readonly #o: DeviceWatcherOptions;
  readonly #grpc: GrpcHypervisorClient;
  #call: grpc.ClientReadableStream<Event__Output> | undefined;
  #generation: number;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #poll: NodeJS.Timeout;

  constructor(o: DeviceWatcherOptions) {
    this.#o = o;
    this.#generation = o.generation ?? -1;
    const Hypervisor = loadHypervisorProto().hmx.argo.v1.Hypervisor;
    this.#grpc = new Hypervisor(o.address, grpc.credentials.createInsecure(), GRPC_MESSAGE_LIMITS);
    this.#open();
    this.#poll = setInterval(() => {
      void this.refresh();
    }, o.pollMs ?? 2000);
    this.#poll.unref();
  }

  /** Re-reads the table now (also what every event does). */
  refresh(): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.#closed) return;
      const r = await readDeviceTable(this.#o.client);
      if (!r.ok) {
        this.#o.onError?.(r.reason);
        return;
      }
      if (r.table.generation === this.#generation) return;
      this.#generation = r.table.generation;
      this.stats.tables++;
      await this.#o.onTable(r.table);
    };
    const p = this.#chain.then(run, run);
    this.#chain = p.catch((err: unknown) => {
      this.#o.onError?.(String(err));
    });
    return this.#chain;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#poll);
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#call?.cancel();
    this.#grpc.close();
  }

  #open(): void {
    if (this.#closed) return;
    const call = this.#grpc.watchEvents({}, bearerMetadata(this.#o.credential));
    this.#call = call;
    call.on("data", (e: Event__Output) => {
      if (e.kind === "deviceAdded" || e.kind === "deviceRemoved") {
        this.stats.events++;
        void this.refresh();
      }
    });
    call.on("metadata", () => {
      // Attached: whatever changed while we were not watching is in the table.
      void this.refresh();
    });
    call.on("error", () => {
      // Bounded: one reconnect attempt per second until closed.
      if (this.#closed) return;
      this.stats.reconnects++;
      this.#retry = setTimeout(() => {
        this.#open();
      }, 1000);
      this.#retry.unref();
    });
  }
}
