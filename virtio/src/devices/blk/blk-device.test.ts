// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-blk device model (VirtIO 1.2 §5.2) driven exactly as a driver drives it, through a
 * `MockSplitQueue`: IN / OUT / FLUSH / GET_ID with their status codes, read-only images,
 * out-of-range and misaligned requests, and malformed framing (virtio-argo.md §4.9: "blk OUT data
 * being a multiple of 512 and within capacity, and that the status byte lies in a writable
 * segment"); plus the file backend created on demand.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { hasFeature, TRANSPORT_FEATURES } from "../../features.js";
import { VIRTQ_DESC_F_WRITE } from "../../queue/split-ring.js";
import { activateForTest, settle } from "../../test-utils/device-harness.js";
import { MockSplitQueue } from "../../test-utils/mock-split-queue.js";
import { BlkDevice } from "./blk-device.js";
import { MemoryBlockBackend } from "./block-backend.js";
import { FileBlockBackend } from "./file-block-backend.js";
import {
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
} from "../../spec/virtio-blk.js";

function header(type: number, sector: bigint | number): Uint8Array {
  const v = new DataView(new ArrayBuffer(16));
  v.setUint32(0, type, true);
  v.setBigUint64(8, BigInt(sector), true);
  return new Uint8Array(v.buffer);
}

function setup(
  options: { sectors?: number; readOnly?: boolean; features?: bigint; contents?: Uint8Array } = {},
) {
  const backend = new MemoryBlockBackend((options.sectors ?? 16) * 512, {
    ...(options.contents !== undefined ? { contents: options.contents } : {}),
  });
  const device = new BlkDevice({
    backend,
    name: "vda",
    id: "hmx-disk-0",
    ...(options.readOnly !== undefined ? { readOnly: options.readOnly } : {}),
  });
  const mq = new MockSplitQueue({ size: 16 });
  const queue = mq.createDeviceQueue();
  const act = activateForTest(device, [queue], options.features ?? device.availableFeatures);
  return { backend, device, mq, queue, act };
}

/** Submits a buffer, kicks, waits for the device, and returns the used element and status. */
async function submit(s: ReturnType<typeof setup>, readable: Uint8Array[], writableLens: number[]) {
  const b = s.mq.addBuffer(readable, writableLens);
  const before = s.mq.usedIdx();
  s.device.queueNotify(0);
  for (let i = 0; i < 20 && s.mq.usedIdx() === before; i++) await settle();
  const used = s.mq.usedElem(before);
  const last = b.writable.at(-1);
  const status = last === undefined ? undefined : s.mq.ram.readU8(last.addr + last.len - 1);
  return { b, used, status };
}

const pattern = (n: number, salt = 1): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + salt) & 0xff);

describe("virtio-blk device model (VirtIO 1.2 §5.2)", () => {
  it("offers VERSION_1, FLUSH and capacity in 512-byte sectors in config", () => {
    const s = setup({ sectors: 2048 });
    assert.ok(hasFeature(s.device.availableFeatures, 32));
    assert.ok(hasFeature(s.device.availableFeatures, VIRTIO_BLK_F_FLUSH));
    assert.ok(!hasFeature(s.device.availableFeatures, VIRTIO_BLK_F_RO));
    assert.equal(s.device.config.getU64(0), 2048n);
  });

  it("OUT then IN round-trips data with status OK and used.len = data + 1 for IN", async () => {
    const s = setup();
    const data = pattern(1024);
    const w = await submit(s, [header(VIRTIO_BLK_T_OUT, 3), data], [1]);
    assert.equal(w.status, VIRTIO_BLK_S_OK);
    assert.equal(w.used.len, 1);
    assert.deepEqual(s.backend.snapshot().subarray(3 * 512, 5 * 512), data);
    const r = await submit(s, [header(VIRTIO_BLK_T_IN, 3)], [1024, 1]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    assert.equal(r.used.len, 1025);
    const first = r.b.writable[0];
    assert.ok(first);
    assert.deepEqual(s.mq.ram.read(first.addr, 1024), data);
  });

  it("IN data split across many writable descriptors lands in order (no layout assumption)", async () => {
    const s = setup({ contents: pattern(16 * 512, 5) });
    const r = await submit(s, [header(VIRTIO_BLK_T_IN, 1)], [100, 300, 112, 1]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    const got = r.b.writable.slice(0, 3).flatMap((w) => [...s.mq.ram.read(w.addr, w.len)]);
    assert.deepEqual(got, [...pattern(16 * 512, 5).subarray(512, 1024)]);
  });

  it("FLUSH flushes the backend and answers OK", async () => {
    const s = setup();
    const r = await submit(s, [header(VIRTIO_BLK_T_FLUSH, 0)], [1]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    assert.equal(s.backend.flushes, 1);
  });

  it("FLUSH without VIRTIO_BLK_F_FLUSH negotiated answers UNSUPP", async () => {
    const s = setup({ features: TRANSPORT_FEATURES });
    const r = await submit(s, [header(VIRTIO_BLK_T_FLUSH, 0)], [1]);
    assert.equal(r.status, VIRTIO_BLK_S_UNSUPP);
    assert.equal(s.backend.flushes, 0);
  });

  it("GET_ID writes the 20-byte NUL-padded id", async () => {
    const s = setup();
    const r = await submit(s, [header(VIRTIO_BLK_T_GET_ID, 0)], [20, 1]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    assert.equal(r.used.len, 21);
    const id = r.b.writable[0];
    assert.ok(id);
    assert.equal(
      Buffer.from(s.mq.ram.read(id.addr, 20)).toString("latin1"),
      "hmx-disk-0\0\0\0\0\0\0\0\0\0\0",
    );
  });

  it("an unknown request type answers UNSUPP", async () => {
    const s = setup();
    const r = await submit(s, [header(99, 0)], [1]);
    assert.equal(r.status, VIRTIO_BLK_S_UNSUPP);
  });

  it("a read-only device offers VIRTIO_BLK_F_RO and answers a write with IOERR, writing nothing", async () => {
    const s = setup({ readOnly: true });
    assert.ok(hasFeature(s.device.availableFeatures, VIRTIO_BLK_F_RO));
    const r = await submit(s, [header(VIRTIO_BLK_T_OUT, 0), pattern(512)], [1]);
    assert.equal(r.status, VIRTIO_BLK_S_IOERR);
    assert.ok(s.backend.snapshot().every((b) => b === 0));
    const ok = await submit(s, [header(VIRTIO_BLK_T_IN, 0)], [512, 1]);
    assert.equal(ok.status, VIRTIO_BLK_S_OK, "reads still work");
  });

  it("a request beyond capacity answers IOERR (IN and OUT)", async () => {
    const s = setup({ sectors: 16 });
    assert.equal(
      (await submit(s, [header(VIRTIO_BLK_T_IN, 15)], [1024, 1])).status,
      VIRTIO_BLK_S_IOERR,
    );
    assert.equal(
      (await submit(s, [header(VIRTIO_BLK_T_OUT, 16), pattern(512)], [1])).status,
      VIRTIO_BLK_S_IOERR,
    );
    assert.equal(
      (await submit(s, [header(VIRTIO_BLK_T_IN, 15)], [512, 1])).status,
      VIRTIO_BLK_S_OK,
      "the last sector is fine",
    );
  });

  it("a sector near 2^64 does not wrap into range: IOERR", async () => {
    const s = setup();
    const r = await submit(s, [header(VIRTIO_BLK_T_IN, 0xffff_ffff_ffff_ffffn)], [512, 1]);
    assert.equal(r.status, VIRTIO_BLK_S_IOERR);
  });

  it("data that is not a multiple of 512 answers IOERR and counts malformedRequest", async () => {
    const s = setup();
    const r = await submit(s, [header(VIRTIO_BLK_T_OUT, 0), pattern(100)], [1]);
    assert.equal(r.status, VIRTIO_BLK_S_IOERR);
    assert.equal(s.act.violations.count("malformedRequest"), 1);
  });

  it("a header shorter than 16 bytes answers IOERR and counts malformedRequest", async () => {
    const s = setup();
    const r = await submit(s, [header(VIRTIO_BLK_T_IN, 0).subarray(0, 8)], [1]);
    assert.equal(r.status, VIRTIO_BLK_S_IOERR);
    assert.equal(s.act.violations.count("malformedRequest"), 1);
  });

  it("a status byte in a readable descriptor (no writable byte) completes with used.len 0 and counts writableRequired", async () => {
    const s = setup();
    const r = await submit(s, [header(VIRTIO_BLK_T_IN, 0), new Uint8Array(513)], []);
    assert.equal(r.used.len, 0);
    assert.equal(r.used.id, r.b.head);
    assert.equal(s.act.violations.count("writableRequired"), 1);
  });

  it("a request with a malformed chain is completed by the queue and the device keeps serving", async () => {
    const s = setup();
    const buf = s.mq.allocBuffer(16);
    s.mq.writeDesc(15, { addr: buf, len: 16, flags: VIRTQ_DESC_F_WRITE | 1, next: 15 });
    s.mq.addAvail(15);
    const r = await submit(s, [header(VIRTIO_BLK_T_IN, 0)], [512, 1]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    assert.equal(s.mq.violations.count("descriptorLoop"), 1);
  });

  it("a completion arriving after reset is dropped instead of touching the reclaimed ring", async () => {
    let release: (() => void) | undefined;
    const backend = new MemoryBlockBackend(8192);
    const slow = Object.assign(Object.create(backend) as MemoryBlockBackend, {
      read: (_o: number, l: number) =>
        new Promise<Uint8Array>((res) => {
          release = () => {
            res(new Uint8Array(l));
          };
        }),
    });
    const device = new BlkDevice({ backend: slow });
    const mq = new MockSplitQueue({ size: 4 });
    activateForTest(device, [mq.createDeviceQueue()]);
    mq.addBuffer([header(VIRTIO_BLK_T_IN, 0)], [512, 1]);
    device.queueNotify(0);
    const reset = device.reset();
    release?.();
    await reset;
    await settle();
    assert.equal(mq.usedIdx(), 0);
    assert.equal(device.state.kind, "inactive");
  });

  it("ignores kicks for queues it does not have and while inactive", () => {
    const device = new BlkDevice({ backend: new MemoryBlockBackend(512) });
    device.queueNotify(0);
    device.queueNotify(5);
    assert.equal(device.stats.requests, 0);
  });
});

describe("file block backend", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("creates a missing image on demand with the given capacity, zero-filled", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hmx-blk-"));
    dirs.push(dir);
    const path = join(dir, "disk.img");
    const fb = await FileBlockBackend.open(path, { capacitySectors: 64 });
    assert.equal(fb.created, true);
    assert.equal(fb.sizeBytes, 64 * 512);
    assert.equal((await stat(path)).size, 64 * 512);
    assert.ok((await fb.read(0, 512)).every((b) => b === 0));
    await fb.write(512, pattern(512));
    await fb.flush();
    await fb.close();
    const again = await FileBlockBackend.open(path, { capacitySectors: 1 });
    assert.equal(again.created, false, "an existing image keeps its size");
    assert.equal(again.sizeBytes, 64 * 512);
    assert.deepEqual(await again.read(512, 512), pattern(512));
    await again.close();
  });

  it("a read-only image is exposed with VIRTIO_BLK_F_RO by the device", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hmx-blk-"));
    dirs.push(dir);
    const path = join(dir, "ro.img");
    await (await FileBlockBackend.open(path, { capacitySectors: 8 })).close();
    const fb = await FileBlockBackend.open(path, { readOnly: true });
    const device = new BlkDevice({ backend: fb });
    assert.ok(hasFeature(device.availableFeatures, VIRTIO_BLK_F_RO));
    await fb.close();
  });

  it("opening a missing image without a capacity fails", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hmx-blk-"));
    dirs.push(dir);
    await assert.rejects(FileBlockBackend.open(join(dir, "nope.img")), { code: "ENOENT" });
  });
});
