// SPDX-License-Identifier: Apache-2.0
/**
 * The control-path features end to end over the real hypervisor (reference §4.5, §4.10, §4.11):
 * SET_CONFIG's stale-generation check (the config-generation race), RESET_VQUEUE with requests
 * in flight (VIRTIO_F_RING_RESET; late completions dropped and counted, the refusals of the back
 * end), and the virtio-net control queue (RX modes, the MAC change, a receive queue reset)
 * between two front ends on the back end's L2 switch.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConsoleDevice, VIRTIO_CONSOLE_CFG_EMERG_WR } from "@hmx/virtio/console";
import { FileBlockBackend } from "@hmx/virtio/blk";
import { ETHERTYPE_IPV4, buildEthernetFrame, formatMac, NetDevice } from "@hmx/virtio/net";
import {
  BlkDriver,
  VirtioDriverError,
  QueueResetError,
  StaleConfigGenerationError,
} from "@hmx/virtio";
import {
  VioaMsg,
  decodeControlResponse,
  decodeFrame,
  encodeControlRequest,
  encodeMessage,
} from "./wire/messages.js";
import { encodeUsedEvent } from "./wire/records.js";
import { TransportErrno } from "./wire/transport-error.js";
import { VioaHub } from "./channel/vioa-hub.js";
import { worldPerSuite } from "./test-utils/virtio-argo-harness.js";
import { until } from "@hmx/virtio/test-utils";

describe("SET_CONFIG generation check over Argo", { timeout: 60_000 }, () => {
  const world = worldPerSuite();

  test("a config-generation race: a stale SET_CONFIG is rejected with -EAGAIN and changes nothing; an unconditional write retries with the fresh generation", async () => {
    const {
      fe,
      host,
      devices: f,
    } = await world.pair("gbe", "gfe", (backendDomid) => [
      { type: "console", backendDomid: backendDomid, name: "hvc0" },
    ]);
    const d = f.devices[0];
    if (d?.state !== "ready") throw new Error("device not ready");
    const hosted = host.find(fe.domid, 0)?.hosted;
    assert.ok(hosted);
    const device = hosted.device;
    assert.ok(device instanceof ConsoleDevice);
    const t = d.transport;
    const key = `${fe.domid}-gfe`;

    const seen = await t.getConfigGeneration();
    device.resize(100, 30); // the back end changes its config: generation seen + 1
    const before = device.config.read(0, device.config.size);
    await assert.rejects(
      t.writeConfig(VIRTIO_CONSOLE_CFG_EMERG_WR, Uint8Array.of(0x41), seen),
      (e: unknown) =>
        e instanceof StaleConfigGenerationError &&
        e.generation === seen &&
        (e.cause as { errno?: number } | undefined)?.errno === TransportErrno.EAGAIN,
    );
    assert.deepEqual(device.config.read(0, device.config.size), before, "config unchanged");
    assert.doesNotMatch(host.consoles.text(key), /A/, "the refused write output nothing");
    assert.equal(hosted.controller.stats.staleConfigWrites, 1);
    assert.equal(hosted.violations.stats.total, 0, "a race is not a violation");

    // The front end's cached generation is stale again; emergencyWrite does not name one.
    device.resize(90, 20);
    const con = f.console();
    assert.ok(con);
    await con.emergencyWrite(0x42);
    assert.match(host.consoles.text(key), /B/);
    assert.equal(t.stats.configWriteRetries, 1, "one re-send after re-reading the generation");
    assert.equal(hosted.controller.stats.staleConfigWrites, 2);
  });
});

describe("RESET_VQUEUE over Argo", { timeout: 60_000 }, () => {
  const world = worldPerSuite();

  test("a requestq reset with writes in flight is answered only once the back end quiesced, rejects them, drops late completions, and new writes after the re-enable are verified", async () => {
    const { fe, host, devices } = await world.pair("rbe", "rfe", (backendDomid) => [
      { type: "blk", backendDomid: backendDomid, capacityBytes: 4 * 1024 * 1024 },
    ]);
    const d = devices.devices[0];
    if (d?.state !== "ready") throw new Error("device not ready");
    const hosted = host.find(fe.domid, 0)?.hosted;
    assert.ok(hosted);
    const blk = devices.blk();
    assert.ok(blk);
    const t = d.transport;
    await blk.write(0, new Uint8Array(512).fill(1));

    // Hold the back end's image writes (it runs in this process) so they stay in flight.
    const held: (() => void)[] = [];
    // eslint-disable-next-line @typescript-eslint/unbound-method -- restored below, called with .call
    const original = FileBlockBackend.prototype.write;
    let hold = true;
    FileBlockBackend.prototype.write = async function (this: FileBlockBackend, offset, data) {
      if (hold) await new Promise<void>((r) => held.push(r));
      return original.call(this, offset, data);
    };
    try {
      const inflight = Promise.allSettled(
        [1, 2, 3, 4].map((i) => blk.write(i * 16, new Uint8Array(8192).fill(i))),
      );
      await until("held.length === 4", () => held.length === 4);
      let answered = false;
      const reset = blk.resetQueue({ size: 64 }).then((n) => {
        answered = true;
        return n;
      });
      await until(
        "hosted.controller.stats.queueResets === 1",
        () => hosted.controller.stats.queueResets === 1,
      );
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(answered, false, "RESET_VQUEUE is answered only once the queue is quiesced");
      hold = false;
      for (const r of held.splice(0)) r();
      assert.equal(await reset, 4);
      for (const r of await inflight) {
        assert.equal(r.status, "rejected");
        assert.ok(r.reason instanceof VirtioDriverError && r.reason.kind === "reset");
      }
    } finally {
      FileBlockBackend.prototype.write = original;
    }
    assert.equal(blk.queueSize, 64, "re-enabled with another size");
    assert.equal(hosted.controller.stats.queueReenables, 1);
    const data = new Uint8Array(64 * 1024).map((_, i) => (i * 11) & 0xff);
    await blk.write(512, data);
    assert.deepEqual(await blk.read(512, 128), data, "new writes after the re-enable verified");
    assert.deepEqual(await blk.read(0, 1), new Uint8Array(512).fill(1));

    // A queue index that does not exist: refused, naming it, before anything is sent.
    await assert.rejects(
      t.resetQueue(7),
      (e: unknown) => e instanceof QueueResetError && e.message.includes("queue 7 does not exist"),
    );

    // A late completion for a queue after its reset: dropped and counted, never applied.
    await blk.core.resetQueue(0);
    const channel = hosted.channel;
    assert.ok(channel);
    await channel.send([
      {
        bytes: encodeMessage(
          { response: false, msgId: VioaMsg.EVENT_USED, devId: 0, token: 0 },
          encodeUsedEvent(0, [
            { head: 3, frag: 0, last: true, writtenLen: 1, data: Uint8Array.of(0) },
          ]),
        ),
      },
    ]);
    await until(
      "t.stats.lateUsedAfterQueueReset === 1",
      () => t.stats.lateUsedAfterQueueReset === 1,
    );
    assert.equal(devices.violations.stats.total, 0, "a late completion is not a violation");
    assert.equal(t.failure, undefined);
    assert.equal(blk.core.state.kind, "ready");
    assert.equal(hosted.violations.stats.total, 0);
    // The device keeps working after a full re-initialisation.
    const again = await BlkDriver.create(t);
    await again.write(8, new Uint8Array(512).fill(5));
    assert.deepEqual(await again.read(8, 1), new Uint8Array(512).fill(5));
  });

  test("the back end refuses RESET_VQUEUE with -EOPNOTSUPP when RING_RESET was not negotiated and -EINVAL for a queue that does not exist", async () => {
    const be = await world.createDomain("sbe", "backend_t");
    const fe = await world.createDomain("sfe", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
    ]);
    const host = await world.backend(await world.connect("sbe", be.domid, be.credential));
    const feGuest = await world.connect("sfe", fe.domid, fe.credential);
    const hosted = host.find(fe.domid, 0)?.hosted;
    assert.ok(hosted);
    const entry = (await feGuest.table()).devices[0];
    assert.ok(entry);
    // A hand-written front end: no driver, so nothing checks our requests before the back end.
    const hub = new VioaHub(feGuest.endpoint);
    const answers = new Map<number, number>();
    const ch = await hub.open({
      aport: entry.fePort,
      peerDomid: be.domid,
      peerPort: entry.bePort,
      ringLen: entry.ringLen,
      stagingBytes: 65536,
      onMessage: (m) => {
        const f = decodeFrame(m);
        if (f.response) answers.set(f.token, decodeControlResponse(f.msgId, f.payload).ret);
      },
    });
    const ctl = async (token: number, req: Parameters<typeof encodeControlRequest>[0]) => {
      await ch.send([
        {
          bytes: encodeMessage(
            { response: false, msgId: req.id, devId: 0, token },
            encodeControlRequest(req),
          ),
        },
      ]);
      await until("answers.has(token)", () => answers.has(token));
      return answers.get(token);
    };
    await ctl(1, { id: VioaMsg.SET_DEVICE_STATUS, status: 0 });
    await ctl(2, { id: VioaMsg.SET_DEVICE_STATUS, status: 1 });
    await ctl(3, { id: VioaMsg.SET_DEVICE_STATUS, status: 3 });
    // VERSION_1 only (bit 32): no RING_RESET (bit 40).
    await ctl(4, { id: VioaMsg.SET_DRV_FEATURES, index: 0, words: [0, 1, 0, 0] });
    await ctl(5, { id: VioaMsg.SET_DEVICE_STATUS, status: 11 });
    await ctl(6, { id: VioaMsg.SET_VQUEUE, index: 0, size: 16 });
    await ctl(7, { id: VioaMsg.SET_DEVICE_STATUS, status: 15 });
    assert.equal(await ctl(8, { id: VioaMsg.RESET_VQUEUE, index: 0 }), -TransportErrno.EOPNOTSUPP);
    assert.equal(await ctl(9, { id: VioaMsg.RESET_VQUEUE, index: 9 }), -TransportErrno.EINVAL);
    assert.equal(hosted.violations.stats.queueResetInvalid, 2);
    assert.equal(hosted.controller.stats.queueResets, 0);
    assert.equal(hosted.controller.status & 15, 15, "the device stays live");
    await ch.close();
    await hub.close();
  });
});

describe("virtio-net control queue over Argo", { timeout: 60_000 }, () => {
  const world = worldPerSuite();

  test("RX modes and a MAC change through the control queue filter what the switch delivers, ping follows the new MAC, and a receive queue reset lets frames flow again", async () => {
    const be = await world.createDomain("cbe", "backend_t");
    const a = await world.createDomain("cna", "frontend_t", [
      { type: "net", backendDomid: be.domid },
    ]);
    const b = await world.createDomain("cnb", "frontend_t", [
      { type: "net", backendDomid: be.domid },
    ]);
    const host = await world.backend(await world.connect("cbe", be.domid, be.credential));
    const bGuest = await world.connect("cnb", b.domid, b.credential);
    const fa = await world.frontend(await world.connect("cna", a.domid, a.credential));
    const fb = await world.frontend(bGuest);
    const na = fa.net();
    const nb = fb.net();
    assert.ok(na && nb, "both NICs ready");
    const entry = (await bGuest.table()).devices[0];
    const devB = host.find(b.domid, 0)?.hosted.device;
    assert.ok(devB instanceof NetDevice);
    assert.equal(entry?.numQueues, 3, "the table says three queues");
    assert.equal(devB.queueMaxSizes.length, 3, "and so does the device model");
    assert.equal(devB.filter.promiscuous, false, "the driver turned promiscuous mode off");

    const { MiniIpStack } = await import("@hmx/virtio");
    const ipa = new MiniIpStack(na, "10.0.0.1");
    const ipb = new MiniIpStack(nb, "10.0.0.2");
    await ipa.ping("10.0.0.2", { timeoutMs: 3000 });

    // Multicast reaches B only with all-multicast on.
    const mcast = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0x09);
    const got: Uint8Array[] = [];
    nb.onFrame((f) => got.push(f));
    const mframe = (fill: number): Uint8Array =>
      buildEthernetFrame(mcast, na.mac, ETHERTYPE_IPV4, new Uint8Array(46).fill(fill));
    await na.send(mframe(1));
    await nb.setAllMulticast(true);
    await na.send(mframe(2));
    await until("got.some((f) => f[14] === 2)", () => got.some((f) => f[14] === 2));
    assert.equal(got.filter((f) => f[14] === 1).length, 0, "filtered while all-multicast was off");

    // A MAC change: the back end's port and config follow, and so does the peer's ARP cache.
    const newMac = Uint8Array.of(0x52, 0x54, 0x00, 0xfe, 0xed, 0x01);
    await nb.setMac(newMac);
    assert.equal(formatMac(devB.mac), formatMac(newMac));
    await until(
      'ipa.arpLookup("10.0.0.2") === formatMac(newMac)',
      () => ipa.arpLookup("10.0.0.2") === formatMac(newMac),
    );
    await ipa.ping("10.0.0.2", { timeoutMs: 3000 });

    // B's receive queue reset: buffers reclaimed, then frames flow again.
    const detached = await nb.resetQueue(0);
    assert.ok(detached > 0, "posted receive buffers were reclaimed");
    for (let i = 0; i < 3; i++) await ipa.ping("10.0.0.2", { timeoutMs: 3000 });
    assert.equal(ipb.stats.echoRequestsAnswered, 5);
    const hostedB = host.find(b.domid, 0)?.hosted;
    assert.ok(hostedB);
    assert.equal(hostedB.controller.stats.queueResets, 1);
    assert.equal(hostedB.violations.stats.total, 0);
    assert.equal(fb.violations.stats.total, 0);
    ipa.close();
    ipb.close();
  });
});
