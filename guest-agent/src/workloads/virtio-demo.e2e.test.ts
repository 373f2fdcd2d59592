// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-demo workload through a back-end restart, over the real hypervisor: its rounds
 * never stall on a device whose back end died, its device counts say which devices are down,
 * and once a new back end serves the table its disk and console round trips resume by
 * themselves (docs/virtio-argo.md "Recovery").
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { SessionClient } from "../hypercall/session-client.js";
import { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { readDeviceTable } from "../virtio-argo/discovery/varg-reader.js";
import { DeviceHost } from "../virtio-argo/backend/device-host.js";
import { startWorld, type World } from "../virtio-argo/test-utils/virtio-argo-harness.js";
import { VioaHub } from "../virtio-argo/channel/vioa-hub.js";
import { DeviceOpTimeoutError, bounded, newVirtioDemoStats, runVirtioDemo } from "./virtio-demo.js";

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("bounded device operations", () => {
  test("an operation that never settles costs the round a DeviceOpTimeoutError, not the loop", async () => {
    await assert.rejects(
      bounded("a stuck write", new Promise<never>(() => undefined), 20),
      (err: unknown) =>
        err instanceof DeviceOpTimeoutError && err.message.includes("a stuck write"),
    );
    assert.equal(await bounded("a quick one", Promise.resolve(7), 1000), 7);
  });

  test("a late rejection of an abandoned operation is not left unhandled", async () => {
    let fail: (err: Error) => void = () => undefined;
    const late = new Promise<never>((_, reject) => {
      fail = reject;
    });
    await assert.rejects(bounded("late", late, 10), DeviceOpTimeoutError);
    fail(new Error("the device failed later"));
    // An unhandled rejection would fail this test file; give it a turn to surface.
    await new Promise((r) => setTimeout(r, 20));
  });
});

describe("virtio-demo through a back-end restart", { timeout: 120_000 }, () => {
  let world: World;
  const cleanups: (() => Promise<void>)[] = [];
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await world.stop();
  });

  async function backend(domid: number, credential: string) {
    const client = await SessionClient.connect({ address: world.hv.listen, credential });
    const endpoint = await ArgoEndpoint.create(client);
    const hub = new VioaHub(endpoint);
    const host = new DeviceHost({ hub, imageDir: world.dir });
    const t = await readDeviceTable(client);
    if (!t.ok) throw new Error(t.reason);
    await host.apply(t.table.devices);
    return {
      /** What SIGKILL leaves: the models stop, the session goes, the rings stay registered. */
      async kill() {
        for (const d of host.devices) d.hosted.freeze();
        await client.close();
      },
      async stop() {
        await host.close();
        await hub.close();
        await endpoint.close();
        await client.close();
      },
    };
  }

  test("the rounds never stall: the failed devices are counted while the back end is away, and disk and console round trips resume after it restarts", async () => {
    const be = await world.createDomain("dbe", "backend_t");
    const fe = await world.createDomain("dfe", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
      { type: "net", backendDomid: be.domid },
      { type: "console", backendDomid: be.domid, name: "hvc0" },
    ]);
    const be1 = await backend(be.domid, be.credential);
    const feGuest = await world.connect("dfe", fe.domid, fe.credential);
    const stats = newVirtioDemoStats();
    const stop = new AbortController();
    const running = runVirtioDemo(
      feGuest.endpoint,
      {
        signal: stop.signal,
        client: feGuest.client,
        address: world.hv.listen,
        credential: fe.credential,
        pingTargets: () => [],
        count: 0,
        intervalMs: 20,
        opTimeoutMs: 5000,
        tuning: {
          timeoutMs: 500,
          requestTimeoutMs: 1000,
          probeTimeoutMs: 1000,
          reprobeMinMs: 50,
          reprobeMaxMs: 400,
          healthCheckMs: 300,
        },
        log: pino({ level: "silent" }),
      },
      stats,
    );
    cleanups.push(async () => {
      stop.abort();
      await running;
    });
    await until("the demo's disk works", () => stats.devices === 3 && stats.blkReads >= 3);

    await be1.kill();
    await until("all three devices counted as failed", () => stats.failedDevices === 3);
    assert.equal(stats.devices, 0);
    const reads = stats.blkReads;
    const consoleBytes = stats.consoleBytes;

    const be2 = await backend(be.domid, be.credential);
    cleanups.push(() => be2.stop());
    await until(
      "disk and console round trips resume",
      () =>
        stats.devices === 3 &&
        stats.failedDevices === 0 &&
        stats.blkReads > reads + 3 &&
        stats.consoleBytes > consoleBytes,
    );
    assert.equal(stats.blkVerifyErrors, 0, "every read returned what was written");
    stop.abort();
    await running;
  });
});
