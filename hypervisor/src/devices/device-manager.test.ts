// SPDX-License-Identifier: Apache-2.0
/**
 * The toolstack's device placement and the VARG table at gfn 0 (docs/virtio-argo.md
 * "Discovery"): what is written where, the checksum, the generation, the events, and what a
 * destroyed peer or a bad spec does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import {
  PAGE_SIZE,
  VARG_CHECKSUM_OFFSET,
  VARG_ENTRY_COUNT_OFFSET,
  VARG_GENERATION_OFFSET,
  VARG_HEADER_SIZE,
  VARG_LENGTH_OFFSET,
  VARG_ENT_ROLE,
  VARG_ENT_OPTION,
  VARG_ENT_NUM_QUEUES,
  VARG_ENTRY_SIZE,
  VARG_ENT_RING_LEN,
  VargRole,
  VIRTIO_ARGO_BLK_RING_LEN,
  VIRTIO_ARGO_DEFAULT_RING_LEN,
} from "@hmx/proto/abi";
import type { DeviceEvent } from "../events/event-channel.js";
import { createHarness } from "../test-utils/argo-harness.js";
import { DeviceConfigError, DeviceManager } from "./device-manager.js";
import { acpiChecksum, encodeVargTable } from "./varg-table.js";

function setup(): {
  m: DeviceManager;
  events: [number, DeviceEvent][];
  h: ReturnType<typeof createHarness>;
} {
  const h = createHarness({ domains: 3, memoryBytes: 1024 * 1024 });
  const events: [number, DeviceEvent][] = [];
  const m = new DeviceManager({
    registry: h.core.domains,
    events: { raiseDeviceEvent: (d, e) => events.push([d, e]) },
    log: pino({ level: "silent" }),
  });
  return { m, events, h };
}

function page(h: ReturnType<typeof createHarness>, domid: number): Buffer {
  const d = h.core.domains.get(domid);
  const b = d?.memory.read(0, PAGE_SIZE);
  assert.ok(b);
  return b;
}

test("the table's bytes sum to 0 mod 256 (the ACPI checksum rule)", () => {
  const t = encodeVargTable({ domid: 1, generation: 3 }, []);
  const len = t.readUInt32LE(VARG_LENGTH_OFFSET);
  assert.equal(len, VARG_HEADER_SIZE);
  let sum = 0;
  for (let i = 0; i < len; i++) sum = (sum + (t[i] ?? 0)) & 0xff;
  assert.equal(sum, 0);
  assert.equal(acpiChecksum(t.subarray(0, len), VARG_CHECKSUM_OFFSET), t[VARG_CHECKSUM_OFFSET]);
});

test("attaching a device writes a front-end entry at gfn 0 of the front end and a back-end entry (with the image path) at gfn 0 of the back end", () => {
  const { m, events, h } = setup();
  const [d] = m.attach(1, [{ type: 2, backendDomid: 2, capacityBytes: 1024 * 1024 }]);
  assert.ok(d);
  assert.equal(d.devIndex, 0);
  assert.equal(d.backendPort, 0x1002);
  assert.equal(d.frontendPort, 0x2002);
  const fe = page(h, 1);
  const be = page(h, 2);
  assert.equal(fe.toString("latin1", 0, 4), "VARG");
  assert.equal(fe.readUInt16LE(VARG_ENTRY_COUNT_OFFSET), 1);
  assert.equal(fe.readUInt8(VARG_HEADER_SIZE + VARG_ENT_ROLE), VargRole.frontend);
  assert.equal(be.readUInt8(VARG_HEADER_SIZE + VARG_ENT_ROLE), VargRole.backend);
  assert.match(
    be.toString(
      "latin1",
      VARG_HEADER_SIZE + VARG_ENT_OPTION,
      VARG_HEADER_SIZE + VARG_ENT_OPTION + 20,
    ),
    /^vm1-vd0\.img/,
  );
  assert.equal(
    fe.readUInt8(VARG_HEADER_SIZE + VARG_ENT_OPTION),
    0,
    "the front end never sees the image path",
  );
  assert.deepEqual(
    events.map(([domid, e]) => [domid, e.kind, e.role]),
    [
      [1, "added", 1],
      [2, "added", 2],
    ],
  );
});

test("every rewrite bumps the generation, and detaching removes the entry and raises device_removed on both ends", () => {
  const { m, events, h } = setup();
  m.attach(1, [{ type: 2, backendDomid: 2 }]);
  const g1 = page(h, 1).readUInt32LE(VARG_GENERATION_OFFSET);
  m.attach(1, [{ type: 3, backendDomid: 2 }]);
  assert.equal(page(h, 1).readUInt32LE(VARG_GENERATION_OFFSET), g1 + 1);
  assert.equal(page(h, 1).readUInt16LE(VARG_ENTRY_COUNT_OFFSET), 2);
  m.detach(1, 0);
  assert.equal(page(h, 1).readUInt16LE(VARG_ENTRY_COUNT_OFFSET), 1);
  assert.deepEqual(
    events.slice(-2).map(([d, e]) => [d, e.kind]),
    [
      [1, "removed"],
      [2, "removed"],
    ],
  );
  assert.throws(
    () => m.detach(1, 0),
    (e: unknown) => e instanceof DeviceConfigError && e.kind === "notFound",
  );
});

test("destroying the back end removes its devices from the front end's table", () => {
  const { m, h } = setup();
  m.attach(1, [{ type: 1, backendDomid: 2 }]);
  h.core.domains.destroy(2);
  assert.equal(m.list().length, 0);
  assert.equal(page(h, 1).readUInt16LE(VARG_ENTRY_COUNT_OFFSET), 0);
});

test("a bad spec names the field and changes nothing", () => {
  const { m, h } = setup();
  const bad: [object, RegExp][] = [
    [{ type: 9, backendDomid: 2 }, /type/],
    [{ type: 2, backendDomid: 99 }, /backend_domid/],
    [{ type: 2, backendDomid: 1 }, /own back end/],
    [{ type: 2, backendDomid: 2, capacityBytes: 1000 }, /capacity_bytes/],
    [{ type: 2, backendDomid: 2, imagePath: "../etc/passwd" }, /image_path/],
    [{ type: 2, backendDomid: 2, imagePath: "/abs.img" }, /image_path/],
    [{ type: 1, backendDomid: 2, mac: "01:00:00:00:00:01" }, /mac/],
    [{ type: 2, backendDomid: 2, queueSize: 3 }, /queue_size/],
    [{ type: 2, backendDomid: 2, ringLen: 100 }, /ring_len/],
  ];
  for (const [spec, field] of bad) {
    assert.throws(
      () => m.attach(1, [spec as never]),
      (e: unknown) => e instanceof DeviceConfigError && field.test(e.message),
      JSON.stringify(spec),
    );
  }
  assert.equal(m.list().length, 0);
  assert.equal(page(h, 1).readUInt32LE(0), 0, "no table was written");
});

test("each entry's number of queues is the device type's: net 3 (receiveq, transmitq, controlq), blk 1, console 2", () => {
  const { m, h } = setup();
  m.attach(1, [
    { type: 1, backendDomid: 2 },
    { type: 2, backendDomid: 2, capacityBytes: 1024 * 1024 },
    { type: 3, backendDomid: 2 },
  ]);
  for (const domid of [1, 2]) {
    const p = page(h, domid);
    const queues = [0, 1, 2].map((i) =>
      p.readUInt16LE(VARG_HEADER_SIZE + i * VARG_ENTRY_SIZE + VARG_ENT_NUM_QUEUES),
    );
    assert.deepEqual(queues, [3, 1, 2], `vm${domid}`);
  }
});

test("a blk device's ring defaults to the blk ring (a 1 MiB request in one message), net and console to 256 KiB, and a ring_len given wins", () => {
  const { m, h } = setup();
  const specs = m.attach(1, [
    { type: 1, backendDomid: 2 },
    { type: 2, backendDomid: 2, capacityBytes: 1024 * 1024 },
    { type: 3, backendDomid: 2 },
    { type: 2, backendDomid: 2, capacityBytes: 1024 * 1024, ringLen: 65536 },
  ]);
  const want = [
    VIRTIO_ARGO_DEFAULT_RING_LEN,
    VIRTIO_ARGO_BLK_RING_LEN,
    VIRTIO_ARGO_DEFAULT_RING_LEN,
    65536,
  ];
  assert.deepEqual(
    specs.map((d) => d.spec.ringLen),
    want,
  );
  assert.ok(
    VIRTIO_ARGO_BLK_RING_LEN - 32 > 1024 * 1024 + 4096,
    "room for the data and its records",
  );
  for (const domid of [1, 2]) {
    const p = page(h, domid);
    const lens = want.map((_, i) =>
      p.readUInt32LE(VARG_HEADER_SIZE + i * VARG_ENTRY_SIZE + VARG_ENT_RING_LEN),
    );
    assert.deepEqual(lens, want, `vm${domid}`);
  }
});
