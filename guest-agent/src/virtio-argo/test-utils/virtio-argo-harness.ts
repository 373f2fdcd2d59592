// SPDX-License-Identifier: Apache-2.0
/**
 * Test support for virtio-argo end to end (virtio-argo.md §4.11 scenarios): a real hypervisor
 * on loopback port 0 (the same configuration as the hypervisor's `startTestHypervisor`), domains
 * made through the toolstack with devices, and real guests — `SessionClient` + `ArgoEndpoint`
 * — running a `DeviceHost` (back end) or `FrontendDevices` (front end) from their own gfn-0
 * table. Not part of the build's public surface.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import {
  embeddedHypervisorConfig,
  startHypervisor,
  type RunningHypervisor,
  type XsmModuleName,
} from "@hmx/hypervisor";
import { ToolstackClient, type DeviceSpecView } from "@hmx/client";
import { after, before } from "node:test";
import { pino } from "pino";
import { SessionClient } from "../../hypercall/session-client.js";
import { ArgoEndpoint } from "../../libargo/argo-endpoint.js";
import { FrontendDevices, type FrontendDevicesOptions } from "../discovery/frontend-devices.js";
import { readDeviceTable, type VargTable } from "../discovery/varg-reader.js";
import { VioaHub } from "../channel/vioa-hub.js";
import { DeviceHost } from "../backend/device-host.js";

export interface WorldOptions {
  readonly xsm?: XsmModuleName;
  readonly policy?: { readonly fileName: string; readonly source: string };
}

export interface TestGuestHandle {
  readonly domid: number;
  readonly name: string;
  readonly credential: string;
  readonly client: SessionClient;
  readonly endpoint: ArgoEndpoint;
  table(): Promise<VargTable>;
  close(): Promise<void>;
}

export interface World {
  readonly hv: RunningHypervisor;
  readonly toolstack: ToolstackClient;
  readonly dir: string;
  createDomain(
    name: string,
    label: string,
    devices?: readonly DeviceSpecView[],
    memoryBytes?: number,
  ): Promise<{ domid: number; credential: string }>;
  connect(name: string, domid: number, credential: string): Promise<TestGuestHandle>;
  /** A back-end guest hosting what its table lists. */
  backend(guest: TestGuestHandle, consoleDir?: string): Promise<DeviceHost>;
  /** A front-end guest with its devices probed. */
  frontend(
    guest: TestGuestHandle,
    options?: Partial<FrontendDevicesOptions>,
  ): Promise<FrontendDevices>;
  /**
   * The usual setup in one call: a back end `beName` (label backend_t) and a front end `feName`
   * (frontend_t) with the devices `specs(backendDomid)` lists, both connected and running.
   */
  pair(
    beName: string,
    feName: string,
    specs: (backendDomid: number) => readonly DeviceSpecView[],
  ): Promise<{
    be: { domid: number; credential: string };
    fe: { domid: number; credential: string };
    host: DeviceHost;
    devices: FrontendDevices;
  }>;
  stop(): Promise<void>;
}

export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const adminToken = randomBytes(24).toString("base64url");
  const hv = await startHypervisor(
    {
      ...embeddedHypervisorConfig(adminToken),
      argoMacPermissive: false,
      ...(o.xsm === undefined ? {} : { xsm: o.xsm }),
      ...(o.policy === undefined ? {} : { policy: o.policy }),
    },
    pino({ level: "silent" }),
  );
  const toolstack = new ToolstackClient(hv.controlListen, adminToken);
  const dir = mkdtempSync(join(tmpdir(), "hmx-virtio-"));
  const closers: (() => Promise<void>)[] = [];
  const world: World = {
    hv,
    toolstack,
    dir,
    async createDomain(name, label, devices = [], memoryBytes = 32 * 1024 * 1024) {
      const r = await toolstack.createDomain({ name, label, memoryBytes, devices });
      return { domid: r.domid, credential: r.credential };
    },
    async connect(name, domid, credential) {
      const client = await SessionClient.connect({ address: hv.listen, credential });
      const endpoint = await ArgoEndpoint.create(client);
      const handle: TestGuestHandle = {
        domid,
        name,
        credential,
        client,
        endpoint,
        async table() {
          const r = await readDeviceTable(client);
          if (!r.ok) throw new Error(`bad device table: ${r.reason}`);
          return r.table;
        },
        async close() {
          await endpoint.close();
          await client.close();
        },
      };
      closers.push(() => handle.close());
      return handle;
    },
    async backend(guest, consoleDir) {
      const hub = new VioaHub(guest.endpoint);
      const host = new DeviceHost({
        hub,
        imageDir: dir,
        ...(consoleDir === undefined ? {} : { consoleDir }),
      });
      await host.apply((await guest.table()).devices);
      closers.unshift(async () => {
        await host.close();
        await hub.close();
      });
      return host;
    },
    async frontend(guest, options = {}) {
      const fe = new FrontendDevices({
        endpoint: guest.endpoint,
        memoryBytes: (await guest.client.getDomainInfo()).memoryBytes,
        timeoutMs: 2000,
        probeTimeoutMs: 5000,
        ...options,
      });
      await fe.apply(await guest.table());
      closers.unshift(() => fe.close());
      return fe;
    },
    async pair(beName, feName, specs) {
      const be = await world.createDomain(beName, "backend_t");
      const fe = await world.createDomain(feName, "frontend_t", specs(be.domid));
      const host = await world.backend(await world.connect(beName, be.domid, be.credential));
      const devices = await world.frontend(await world.connect(feName, fe.domid, fe.credential));
      return { be, fe, host, devices };
    },
    async stop() {
      for (const c of closers) await c().catch(() => undefined);
      toolstack.close();
      await hv.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/**
 * The World of one `describe` block: started before its tests and stopped after them. The
 * object it returns stands for that World inside the tests (using it outside one throws).
 */
export function worldPerSuite(o: WorldOptions = {}): World {
  let started: World | undefined;
  before(async () => {
    started = await startWorld(o);
  });
  after(async () => {
    await started?.stop();
  });
  const w = (): World => {
    if (started === undefined) throw new Error("the suite's World is used outside its tests");
    return started;
  };
  return {
    get hv() {
      return w().hv;
    },
    get toolstack() {
      return w().toolstack;
    },
    get dir() {
      return w().dir;
    },
    createDomain: (...args) => w().createDomain(...args),
    connect: (...args) => w().connect(...args),
    backend: (...args) => w().backend(...args),
    frontend: (...args) => w().frontend(...args),
    pair: (...args) => w().pair(...args),
    stop: () => w().stop(),
  };
}
