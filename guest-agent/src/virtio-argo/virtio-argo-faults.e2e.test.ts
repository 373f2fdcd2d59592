// SPDX-License-Identifier: Apache-2.0
/**
 * virtio-argo failure paths over the real hypervisor (virtio-argo.md §4.9, §4.11): a back end
 * that hangs and restarts (the front end times out to FAILED, then recovers with a reset), a
 * device the Flask policy forbids (the probe fails cleanly with EACCES, the denial audited),
 * a hostile back end (bad, duplicate and over-long completions) and a hostile front end
 * (malformed AVAIL records): counted, the device reset, never a crash.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BlkDriver, ViolationKind } from "@hmx/virtio";
import { VioaMsg, encodeControlRequest, encodeMessage } from "./wire/messages.js";
import { encodeAvailRecords, encodeUsedEvent } from "./wire/records.js";
import { TransportErrno } from "./wire/transport-error.js";
import { VioaHub } from "./channel/vioa-hub.js";
import { DeviceHost } from "./backend/device-host.js";
import { worldPerSuite } from "./test-utils/virtio-argo-harness.js";
import { until } from "@hmx/virtio/test-utils";

describe("virtio-argo back-end failure and recovery", { timeout: 60_000 }, () => {
  const world = worldPerSuite();

  test("a hung back end makes the front end time out to FAILED, and a reset recovers after the back end restarts", async () => {
    const be = await world.createDomain("hbe", "backend_t");
    const fe = await world.createDomain("hfe", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
    ]);
    const beGuest = await world.connect("hbe", be.domid, be.credential);
    const host = await world.backend(beGuest);
    // This test drives the transport's own reset path: no automatic re-probe.
    const devices = await world.frontend(await world.connect("hfe", fe.domid, fe.credential), {
      requestTimeoutMs: 400,
      autoRecover: false,
    });
    const d = devices.devices[0];
    if (d?.state !== "ready") throw new Error("device not ready");
    const blk = devices.blk();
    assert.ok(blk);
    const data = new Uint8Array(4096).fill(0xa5);
    await blk.write(8, data);

    host.find(fe.domid, 0)?.hosted.freeze();
    await assert.rejects(blk.write(16, data));
    assert.equal(d.transport.failure?.errno, TransportErrno.ETIMEDOUT);
    assert.equal(blk.core.state.kind, "failed");

    // The back end restarts: its old rings go, a new host registers them again.
    await host.close();
    const hub2 = new VioaHub(beGuest.endpoint);
    const host2 = new DeviceHost({ hub: hub2, imageDir: world.dir });
    await host2.apply((await beGuest.table()).devices);
    try {
      const again = await BlkDriver.create(d.transport);
      assert.equal(d.transport.failure, undefined, "the reset recovered the transport");
      assert.deepEqual(
        await again.read(8, 8),
        data,
        "the data written before the hang is on the image",
      );
      assert.equal(d.transport.stats.recoveries, 1);
    } finally {
      await host2.close();
      await hub2.close();
    }
  });
});

describe("virtio-argo under a Flask policy", { timeout: 60_000 }, () => {
  const policy = `
type backend_t;
type allowed_t;
type denied_t;
allow { backend_t allowed_t denied_t } xen_t:argo enable;
allow backend_t { allowed_t denied_t }:argo { register_single_source send };
allow allowed_t backend_t:argo { register_single_source send };
`;
  const world = worldPerSuite({
    xsm: "flask",
    policy: { fileName: "virtio-test.te", source: policy },
  });

  test("a device the policy forbids fails its probe with EACCES and the denial is audited, while an allowed one works", async () => {
    const be = await world.createDomain("mbe", "backend_t");
    const ok = await world.createDomain("mok", "allowed_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
    ]);
    const no = await world.createDomain("mno", "denied_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
    ]);
    await world.backend(await world.connect("mbe", be.domid, be.credential));
    const before = await world.toolstack.getAuditCounters();
    const allowed = await world.frontend(await world.connect("mok", ok.domid, ok.credential));
    const denied = await world.frontend(await world.connect("mno", no.domid, no.credential));
    assert.equal(allowed.devices[0]?.state, "ready");
    const d = denied.devices[0];
    if (d?.state !== "failed") throw new Error("the denied device did not fail its probe");
    assert.equal(d.errno, TransportErrno.EACCES);
    assert.equal(d.code, "EACCES");
    assert.equal(d.retryInMs, undefined, "a MAC refusal is configuration: not re-probed");
    assert.equal(denied.stats.probes, 1);
    const afterCounters = await world.toolstack.getAuditCounters();
    assert.ok(afterCounters.denials > before.denials, "the hypervisor audited the denial");
    const blk = allowed.blk();
    assert.ok(blk);
    await blk.write(0, new Uint8Array(512).fill(1));
  });
});

describe("virtio-argo hardening", { timeout: 60_000 }, () => {
  const world = worldPerSuite();

  test("hostile back-end completions (unknown head, head outside the queue, length beyond the writable size, garbage) break the device, are counted, and a reset recovers", async () => {
    const be = await world.createDomain("xbe", "backend_t");
    const fe = await world.createDomain("xfe", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
    ]);
    const host = await world.backend(await world.connect("xbe", be.domid, be.credential));
    // This test drives the transport's own reset path: no automatic re-probe.
    const devices = await world.frontend(await world.connect("xfe", fe.domid, fe.credential), {
      autoRecover: false,
    });
    const d = devices.devices[0];
    if (d?.state !== "ready") throw new Error("device not ready");
    const channel = host.find(fe.domid, 0)?.hosted.channel;
    assert.ok(channel);
    const used = (records: { head: number; writtenLen: number; data: Uint8Array }[]): Uint8Array =>
      encodeMessage(
        { response: false, msgId: VioaMsg.EVENT_USED, devId: 0, token: 0 },
        encodeUsedEvent(
          0,
          records.map((r) => ({ ...r, frag: 0, last: true })),
        ),
      );
    const cases: [string, Uint8Array, string][] = [
      [
        "unknown head",
        used([{ head: 7, writtenLen: 1, data: new Uint8Array(1) }]),
        ViolationKind.usedIdNotOutstanding,
      ],
      [
        "head outside the queue",
        used([{ head: 4000, writtenLen: 0, data: new Uint8Array(0) }]),
        ViolationKind.usedIdOutOfRange,
      ],
      [
        "garbage",
        new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
        ViolationKind.malformedRequest,
      ],
    ];
    let blk = devices.blk();
    assert.ok(blk);
    for (const [what, bytes, kind] of cases) {
      const current = blk;
      const before = devices.violations.stats[kind as ViolationKind];
      // The failed driver resets the device after it reports failed; its failure handlers run
      // once that reset is done. A new driver that started earlier would have its negotiation
      // undone by that reset (FEATURES_OK cleared under it).
      let oldDriverDone = false;
      current.core.onFailed(() => {
        oldDriverDone = true;
      });
      await channel.send([{ bytes }]);
      await until(
        "devices.violations.stats[kind as ViolationKind] > before",
        () => devices.violations.stats[kind as ViolationKind] > before,
      );
      await until("the failed driver has reset the device", () => oldDriverDone);
      // The device recovers with a reset, as a driver does after DEVICE_NEEDS_RESET.
      blk = await BlkDriver.create(d.transport);
      await blk.write(0, new Uint8Array(512).fill(2));
      assert.deepEqual(
        await blk.read(0, 1),
        new Uint8Array(512).fill(2),
        `works again after "${what}"`,
      );
    }
    // A completion claiming more bytes than the chain can take: a request must be in flight.
    const hosted = host.find(fe.domid, 0)?.hosted;
    assert.ok(hosted);
    hosted.freeze();
    // Expected to reject once the bogus completion arrives; expect it now so that the rejection
    // is handled whenever it comes.
    const inflightRejected = assert.rejects(blk.write(0, new Uint8Array(512)));
    await until(
      "d.transport.stats.availChains > 0 && hosted.stats.messages >= 0",
      () => d.transport.stats.availChains > 0 && hosted.stats.messages >= 0,
    );
    await new Promise((r) => setTimeout(r, 100));
    const tooLong = devices.violations.stats.usedLenTooLarge;
    await channel.send([
      { bytes: used([{ head: 0, writtenLen: 4096, data: new Uint8Array(4096) }]) },
    ]);
    await until(
      "devices.violations.stats.usedLenTooLarge > tooLong",
      () => devices.violations.stats.usedLenTooLarge > tooLong,
    );
    await inflightRejected;
    hosted.thaw();
    blk = await BlkDriver.create(d.transport);
    await blk.write(0, new Uint8Array(512).fill(3));
  });

  test("hostile front-end records (head beyond the queue, lengths that do not add up, a flood) are counted and break only that device", async () => {
    const be = await world.createDomain("ybe", "backend_t");
    const fe = await world.createDomain("yfe", "frontend_t", [
      { type: "blk", backendDomid: be.domid, capacityBytes: 1024 * 1024 },
    ]);
    const host = await world.backend(await world.connect("ybe", be.domid, be.credential));
    const feGuest = await world.connect("yfe", fe.domid, fe.credential);
    const hosted = host.find(fe.domid, 0);
    assert.ok(hosted);
    const entry = (await feGuest.table()).devices[0];
    assert.ok(entry);
    // A hand-written front end: its own channel on the device's ports, no driver.
    const hub = new VioaHub(feGuest.endpoint);
    const responses: Buffer[] = [];
    const ch = await hub.open({
      aport: entry.fePort,
      peerDomid: be.domid,
      peerPort: entry.bePort,
      ringLen: entry.ringLen,
      stagingBytes: 65536,
      onMessage: (m) => responses.push(m),
    });
    const ctl = async (
      token: number,
      req: Parameters<typeof encodeControlRequest>[0],
    ): Promise<void> => {
      await ch.send([
        {
          bytes: encodeMessage(
            { response: false, msgId: req.id, devId: 0, token },
            encodeControlRequest(req),
          ),
        },
      ]);
    };
    // Bring the device live the legal way.
    await ctl(1, { id: VioaMsg.SET_DEVICE_STATUS, status: 0 });
    await ctl(2, { id: VioaMsg.SET_DEVICE_STATUS, status: 1 });
    await ctl(3, { id: VioaMsg.SET_DEVICE_STATUS, status: 3 });
    await ctl(4, { id: VioaMsg.SET_DRV_FEATURES, index: 0, words: [0, 1, 0, 0] });
    await ctl(5, { id: VioaMsg.SET_DEVICE_STATUS, status: 11 });
    await ctl(6, { id: VioaMsg.SET_VQUEUE, index: 0, size: 16 });
    await ctl(7, { id: VioaMsg.SET_DEVICE_STATUS, status: 15 });
    await until("responses.length >= 7", () => responses.length >= 7);
    assert.equal(hosted.hosted.controller.status & 4, 4, "DRIVER_OK");
    const avail = (head: number, inline: Uint8Array, totalReadable: number): Uint8Array => {
      const recs = encodeAvailRecords(0, [
        {
          head,
          frag: 0,
          last: true,
          segments: [
            { len: 16, writable: false },
            { len: 1, writable: true },
          ],
          totalReadable,
          inlineLen: inline.length,
        },
      ]);
      const payload = new Uint8Array(recs.length + inline.length);
      payload.set(recs, 0);
      payload.set(inline, recs.length);
      return encodeMessage(
        { response: false, msgId: VioaMsg.EVENT_AVAIL, devId: 0, token: 0 },
        payload,
      );
    };
    const v = hosted.hosted.violations.stats;
    const before = v.malformedRequest;
    await ch.send([{ bytes: avail(200, new Uint8Array(16), 16) }]); // head beyond the 16-entry queue
    await until("v.malformedRequest > before", () => v.malformedRequest > before);
    await until(
      "(hosted.hosted.controller.status & 64) === 64",
      () => (hosted.hosted.controller.status & 64) === 64,
    );
    const before2 = v.malformedRequest;
    await ch.send([{ bytes: avail(1, new Uint8Array(15), 999) }]); // total_readable disagrees with the segments
    await until("v.malformedRequest > before2", () => v.malformedRequest > before2);
    // A flood of garbage: counted, coalesced, rate-limited in the log; the back end lives on.
    await Promise.all(
      Array.from({ length: 300 }, () =>
        ch.send([{ bytes: new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }]),
      ),
    );
    await until("hosted.hosted.stats.malformed >= 300", () => hosted.hosted.stats.malformed >= 300);
    assert.ok(v.suppressedLines > 0, "log lines were rate-limited");
    await ch.close();
    await hub.close();
  });
});
