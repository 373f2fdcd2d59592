// SPDX-License-Identifier: Apache-2.0
/**
 * Front-end recovery over the real hypervisor (docs/virtio-argo.md "Recovery"): a back-end
 * process that dies — killed abruptly (its rings stay registered, nobody drains them: what
 * SIGKILL leaves) or stopped cleanly — and comes back for the same table, or never comes back.
 * The front end must never hang an operation, must report its devices failed while they are
 * down, and must re-probe them by itself until the back end answers again.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pino, type Logger } from "pino";
import { SessionClient } from "../../hypercall/session-client.js";
import { ArgoEndpoint } from "../../libargo/argo-endpoint.js";
import { BROADCAST_MAC, buildEthernetFrame } from "@hmx/virtio/net";
import { DeviceHost } from "../backend/device-host.js";
import { startWorld, type World } from "../test-utils/virtio-argo-harness.js";
import { VioaHub } from "../channel/vioa-hub.js";
import { readDeviceTable } from "./varg-reader.js";
import type { FrontendDevices } from "./frontend-devices.js";
import { until } from "@hmx/virtio/test-utils";

/** Polls `cond` every 20 ms; bounded by `ms` (a safety net, not a timing assertion). */
/**
 * `p`, or a rejection naming `what` if it has not settled within `ms`: a hang shows up as a
 * clear failure instead of the suite's timeout (a safety net, not a timing assertion).
 */
function settles<T>(what: string, p: Promise<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} never settled (waited ${ms} ms)`));
    }, ms);
  });
  return Promise.race([p, hung]).finally(() => {
    clearTimeout(timer);
  });
}

/** One back-end process: its own session, hub and device host for the domain's table. */
interface BackendProcess {
  readonly host: DeviceHost;
  /** What SIGKILL leaves: the models stop, the session goes, the rings stay registered. */
  kill(): Promise<void>;
  /** A clean SIGTERM: the devices are stopped and the rings unregistered. */
  stop(): Promise<void>;
}

async function startBackend(
  world: World,
  domid: number,
  credential: string,
): Promise<BackendProcess> {
  const client = await SessionClient.connect({ address: world.hv.listen, credential });
  const endpoint = await ArgoEndpoint.create(client);
  const hub = new VioaHub(endpoint);
  const host = new DeviceHost({ hub, imageDir: world.dir });
  const table = await readDeviceTable(client);
  if (!table.ok) throw new Error(`bad device table: ${table.reason}`);
  await host.apply(table.table.devices);
  let gone = false;
  return {
    host,
    async kill() {
      if (gone) return;
      gone = true;
      for (const d of host.devices) d.hosted.freeze();
      await client.close();
    },
    async stop() {
      if (gone) return;
      gone = true;
      await host.close();
      await hub.close();
      await endpoint.close();
      await client.close();
    },
  };
}

const RECOVERY = {
  timeoutMs: 500,
  requestTimeoutMs: 1000,
  probeTimeoutMs: 1000,
  reprobeMinMs: 50,
  reprobeMaxMs: 400,
  healthCheckMs: 300,
};

function counts(devices: FrontendDevices): { ready: number; failed: number } {
  const ready = devices.devices.filter((d) => d.state === "ready").length;
  return { ready, failed: devices.devices.length - ready };
}

/** A log sink that keeps every record. */
function memoryLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n"))
        if (line.trim() !== "") records.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, stream), records };
}

describe("front-end recovery after a back-end restart", { timeout: 120_000 }, () => {
  let world: World;
  const cleanups: (() => Promise<void>)[] = [];
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await world.stop();
  });

  test("a back end killed abruptly: outstanding and new requests reject, the devices are reported failed, and they recover by themselves once a new back end serves the table", async () => {
    const be = await world.createDomain("kbe", "backend_t");
    const fe = await world.createDomain("kfe", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
      { type: "net", backendDomid: be.domid },
      { type: "console", backendDomid: be.domid, name: "hvc0" },
    ]);
    const be1 = await startBackend(world, be.domid, be.credential);
    cleanups.push(() => be1.stop());
    const devices = await world.frontend(
      await world.connect("kfe", fe.domid, fe.credential),
      RECOVERY,
    );
    assert.deepEqual(counts(devices), { ready: 3, failed: 0 });
    const blk = devices.blk();
    const con = devices.console();
    const nic = devices.net();
    assert.ok(blk && con && nic);
    const before = new Uint8Array(8192).fill(0x5a);
    await blk.write(8, before);
    await con.write("before the crash\n");
    const frame = buildEthernetFrame(BROADCAST_MAC, nic.mac, 0x88b5, new Uint8Array(46));
    await nic.send(frame);

    await be1.kill();
    // Requests in flight when the back end died, and a console read waiting for input: every
    // one of them settles (rejects), none hangs.
    const reading = con.read();
    const failure = /FAILED|NEEDS_RESET|closed|failed|DRIVER_OK/i;
    await Promise.all([
      assert.rejects(settles("an outstanding blk write", blk.write(16, before)), failure),
      assert.rejects(settles("an outstanding console write", con.write("lost\n")), failure),
      assert.rejects(settles("an outstanding net send", nic.send(frame)), failure),
      assert.rejects(settles("a waiting console read", reading), failure),
    ]);
    await until("all three devices reported failed", () => counts(devices).failed === 3, {
      timeoutMs: 20_000,
    });
    assert.equal(devices.blk(), undefined, "a failed device is not handed out");
    // New requests on the drivers of the failed devices reject at once.
    await assert.rejects(blk.read(8, 1));
    await assert.rejects(con.write("x"));
    await assert.rejects(nic.send(frame));
    const failed = devices.devices[0];
    assert.ok(failed?.state === "failed");
    assert.ok(failed.reason.length > 0 && failed.code.length > 0, "the failure says why");
    // While the back end is down the devices keep being re-probed.
    await until(
      "re-probes while the back end is down",
      () => devices.devices.every((d) => d.state === "failed" && d.attempts >= 2),
      { timeoutMs: 20_000 },
    );

    const be2 = await startBackend(world, be.domid, be.credential);
    cleanups.push(() => be2.stop());
    await until("all three devices ready again", () => counts(devices).ready === 3, {
      timeoutMs: 20_000,
    });
    assert.ok(devices.stats.recoveries >= 3);
    const blk2 = devices.blk();
    const con2 = devices.console();
    const nic2 = devices.net();
    assert.ok(blk2 && con2 && nic2);
    assert.notEqual(blk2, blk, "a fresh driver");
    const afterData = new Uint8Array(8192).fill(0xc3);
    await blk2.write(24, afterData);
    assert.deepEqual(await blk2.read(24, 16), afterData, "data written after recovery reads back");
    assert.deepEqual(
      await blk2.read(8, 16),
      before,
      "data written before the crash is on the image",
    );
    await con2.write("after the restart\n");
    await nic2.send(frame);
  });

  test("a back end stopped cleanly and restarted: the idle devices notice, report failed, and recover", async () => {
    const be = await world.createDomain("cbe", "backend_t");
    const fe = await world.createDomain("cfe", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
      { type: "console", backendDomid: be.domid, name: "hvc0" },
    ]);
    const be1 = await startBackend(world, be.domid, be.credential);
    const devices = await world.frontend(
      await world.connect("cfe", fe.domid, fe.credential),
      RECOVERY,
    );
    const blk = devices.blk();
    assert.ok(blk);
    await blk.write(0, new Uint8Array(512).fill(7));
    let changes = 0;
    devices.onChange(() => changes++);

    await be1.stop();
    // No I/O: the health check finds the back end gone.
    await until("both devices reported failed", () => counts(devices).failed === 2, {
      timeoutMs: 20_000,
    });
    assert.ok(changes >= 2, "listeners hear about the failures");
    await assert.rejects(blk.read(0, 1));

    const be2 = await startBackend(world, be.domid, be.credential);
    cleanups.push(() => be2.stop());
    await until("both devices ready again", () => counts(devices).ready === 2, {
      timeoutMs: 20_000,
    });
    const blk2 = devices.blk();
    assert.ok(blk2);
    assert.deepEqual(await blk2.read(0, 1), new Uint8Array(512).fill(7));
    await blk2.write(1, new Uint8Array(512).fill(8));
    assert.deepEqual(await blk2.read(1, 1), new Uint8Array(512).fill(8));
  });

  test("a back end that never comes back: re-probes go on at the maximum backoff, the failure is logged once, and close does not hang", async () => {
    const be = await world.createDomain("nbe", "backend_t");
    // A small ring, so that the dead back end's ring fills up.
    const fe = await world.createDomain("nfe", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024, ringLen: 16384 },
    ]);
    const be1 = await startBackend(world, be.domid, be.credential);
    // Stopped even when an assertion fails before the kill: its session would keep the file alive.
    cleanups.push(() => be1.stop());
    const { logger, records } = memoryLogger();
    const feGuest = await world.connect("nfe", fe.domid, fe.credential);
    const devices = await world.frontend(feGuest, { ...RECOVERY, logger });
    const blk = devices.blk();
    assert.ok(blk);
    await be1.kill();
    // Fill the dead back end's ring: sends then wait for room that never comes, and even the
    // driver's reset (a control request) must not wait for it forever.
    const writes = Array.from({ length: 8 }, (_, i) => blk.write(i * 16, new Uint8Array(8192)));
    for (const w of writes) await assert.rejects(settles("a write to the dead back end", w));
    await until(
      "many re-probes at the maximum backoff",
      () => {
        const d = devices.devices[0];
        return d?.state === "failed" && d.attempts >= 6 && d.retryInMs === RECOVERY.reprobeMaxMs;
      },
      { timeoutMs: 30_000 },
    );
    const d = devices.devices[0];
    assert.ok(d?.state === "failed");
    const warnings = records.filter(
      (r) => (r["level"] as number) >= 40 && r["devIndex"] === d.entry.devIndex,
    );
    assert.equal(
      warnings.length,
      1,
      `one warning for the whole outage, not one per re-probe: ${JSON.stringify(warnings)}`,
    );
    await settles("close", devices.close());
  });
});
