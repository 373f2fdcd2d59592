// SPDX-License-Identifier: Apache-2.0
/**
 * virtio-argo end to end over the real hypervisor (virtio-argo.md §4.11): a back-end guest
 * hosting devices from its gfn-0 table, front-end guests driving them through `ArgoTransport`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { worldPerSuite } from "./test-utils/virtio-argo-harness.js";

describe("virtio-blk over Argo", { timeout: 60_000 }, () => {
  const world = worldPerSuite();

  test("a disk pattern written through virtio-argo reads back identical, and flush succeeds", async () => {
    const be = await world.createDomain("be1", "backend_t");
    const fe = await world.createDomain("fe1", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 4 * 1024 * 1024 },
    ]);
    const beGuest = await world.connect("be1", be.domid, be.credential);
    const host = await world.backend(beGuest);
    assert.equal(host.devices.length, 1);
    const feGuest = await world.connect("fe1", fe.domid, fe.credential);
    const devices = await world.frontend(feGuest);
    const d = devices.devices[0];
    assert.equal(d?.state, "ready", JSON.stringify(d?.state === "failed" ? d : ""));
    const blk = devices.blk();
    assert.ok(blk);
    assert.equal(blk.capacitySectors, 8192);
    const pattern = new Uint8Array(64 * 1024).map((_, i) => (i * 7 + 3) & 0xff);
    await blk.write(100, pattern);
    await blk.flush();
    const back = await blk.read(100, 128);
    assert.deepEqual(back, pattern);
    const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 13) & 0xff);
    await blk.write(2048, big);
    assert.deepEqual(await blk.read(2048, 2048), big);
  });
});

describe(
  "virtio-argo transport initialization over the real hypervisor",
  { timeout: 60_000 },
  () => {
    const world = worldPerSuite();

    test("the init sequence negotiates the same features on both sides, and a subset the device does not offer leaves FEATURES_OK clear", async () => {
      const { fe, host, devices } = await world.pair("ibe", "ife", (backendDomid) => [
        { type: "blk", backendDomid: backendDomid, capacityBytes: 1024 * 1024, readOnly: true },
      ]);
      const d = devices.devices[0];
      if (d?.state !== "ready") throw new Error("device not ready");
      const hosted = host.find(fe.domid, 0)?.hosted;
      assert.ok(hosted);
      const blk = devices.blk();
      assert.ok(blk);
      assert.equal(
        blk.readOnly,
        true,
        "VIRTIO_BLK_F_RO negotiated from the table's read-only flag",
      );
      assert.equal(hosted.controller.driverFeatures, blk.core.features);
      assert.equal(hosted.controller.status, 15, "ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK");
      await assert.rejects(blk.write(0, new Uint8Array(512)));
      // By hand: a feature the device never offered (bit 63) makes the step-6 re-read fail.
      const t = d.transport;
      await t.setStatus(0);
      await t.setStatus(1);
      await t.setStatus(3);
      await t.setDriverFeatures((await t.getDeviceFeatures()) | (1n << 63n));
      await t.setStatus(11);
      assert.equal((await t.getStatus()) & 8, 0, "FEATURES_OK clear");
      assert.equal(hosted.controller.stats.featureRejections, 1);
    });
  },
);

describe("virtio-net and virtio-console over Argo", { timeout: 60_000 }, () => {
  const world = worldPerSuite();

  test("one guest pings another through the back end's L2 switch", async () => {
    const be = await world.createDomain("netbe", "backend_t");
    const a = await world.createDomain("neta", "frontend_t", [
      { type: "net", backendDomid: be.domid },
    ]);
    const b = await world.createDomain("netb", "frontend_t", [
      { type: "net", backendDomid: be.domid },
    ]);
    await world.backend(await world.connect("netbe", be.domid, be.credential));
    const fa = await world.frontend(await world.connect("neta", a.domid, a.credential));
    const fb = await world.frontend(await world.connect("netb", b.domid, b.credential));
    const na = fa.net();
    const nb = fb.net();
    assert.ok(na && nb, "both NICs ready");
    const { MiniIpStack } = await import("@hmx/virtio");
    const ipa = new MiniIpStack(na, "10.0.0.1");
    const ipb = new MiniIpStack(nb, "10.0.0.2");
    for (let i = 0; i < 5; i++) {
      const r = await ipa.ping("10.0.0.2", { timeoutMs: 3000 });
      assert.ok(r.rttMs >= 0);
    }
    assert.equal(ipb.stats.echoRequestsAnswered, 5);
    ipa.close();
    ipb.close();
  });

  test("console output reaches the back end's log and input comes back to the guest", async () => {
    const {
      fe,
      host,
      devices: f,
    } = await world.pair("conbe", "confe", (backendDomid) => [
      { type: "console", backendDomid: backendDomid, name: "hvc0" },
    ]);
    const con = f.console();
    assert.ok(con);
    await con.write("hello from the front end\n");
    const key = `${fe.domid}-confe`;
    assert.match(host.consoles.text(key), /hello from the front end/);
    const got = new Promise<string>((resolve) => {
      con.onData((d) => {
        resolve(new TextDecoder().decode(d));
      });
    });
    assert.ok(host.consoles.input(key, "typed input"));
    assert.equal(await got, "typed input");
  });
});

describe("virtio-argo hot-add and removal", { timeout: 60_000 }, () => {
  const world = worldPerSuite();

  test("AttachDevice and DetachDevice rewrite both tables and the guests follow through device events", async () => {
    const { DeviceWatcher } = await import("./discovery/device-watcher.js");
    const be = await world.createDomain("pbe", "backend_t");
    const fe = await world.createDomain("pfe", "frontend_t");
    const beGuest = await world.connect("pbe", be.domid, be.credential);
    const feGuest = await world.connect("pfe", fe.domid, fe.credential);
    const host = await world.backend(beGuest);
    const devices = await world.frontend(feGuest);
    assert.equal(devices.devices.length, 0);
    const watchers = [
      new DeviceWatcher({
        address: world.hv.listen,
        credential: be.credential,
        client: beGuest.client,
        onTable: (t) => host.apply(t.devices),
      }),
      new DeviceWatcher({
        address: world.hv.listen,
        credential: fe.credential,
        client: feGuest.client,
        onTable: (t) => devices.apply(t),
      }),
    ];
    try {
      // Let the WatchEvents streams attach, so the events (not only the backstop poll) carry the change.
      await new Promise((r) => setTimeout(r, 300));
      const info = await world.toolstack.attachDevice(fe.domid, {
        type: "console",
        backendDomid: be.domid,
      });
      assert.equal(info.devIndex, 0);
      const deadline = Date.now() + 10_000;
      while (devices.console() === undefined) {
        if (Date.now() > deadline) throw new Error("hot-added console never became ready");
        await new Promise((r) => setTimeout(r, 50));
      }
      await devices.console()?.write("hot\n");
      assert.equal((await world.toolstack.listDevices(fe.domid)).length, 1);
      await world.toolstack.detachDevice(fe.domid, 0);
      const remaining = (): number => devices.devices.length + host.devices.length;
      while (remaining() > 0) {
        if (Date.now() > deadline) throw new Error("removed console never went away");
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(
        (watchers[1]?.stats.tables ?? 0) >= 2,
        "the front end applied two table generations",
      );
      assert.ok((watchers[1]?.stats.events ?? 0) >= 1, "device events arrived on WatchEvents");
    } finally {
      for (const w of watchers) w.close();
    }
  });
});
