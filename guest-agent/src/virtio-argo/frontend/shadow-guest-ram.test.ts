// SPDX-License-Identifier: Apache-2.0
/**
 * `ShadowGuestRam` against a fake hypervisor memory: residency rules, dirty tracking, flush
 * batching (adjacent dirty spans merged across pages into one WriteMemory, all in one batch),
 * load keeping newer local bytes, device-written bytes kept out of flushes until a device is to
 * read them, and failure handling (a failed flush keeps bytes dirty).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type {
  BatchOptions,
  HypercallOp,
  HypercallOutcome,
} from "../../hypercall/hypercall-client.js";
import { InProcessHypervisor } from "../../test-utils/in-process-client.js";
import { BlkDevice, MemoryBlockBackend } from "@hmx/virtio/blk";
import {
  BlkDriver,
  LoopbackTransport,
  DmaAllocator,
  GuestRamError,
  InMemoryGuestRam,
} from "@hmx/virtio";
import { ShadowGuestRam } from "./shadow-guest-ram.js";
import { propertySeed } from "@hmx/virtio/test-utils";

class FakeHypervisorMemory {
  readonly bytes = new Uint8Array(64 * 4096);
  readonly batches: HypercallOp[][] = [];
  failWrites = false;

  batch(ops: readonly HypercallOp[], _options?: BatchOptions): Promise<HypercallOutcome[]> {
    this.batches.push([...ops]);
    return Promise.resolve(
      ops.map((op): HypercallOutcome => {
        if (op.op === "writeMemory") {
          if (this.failWrites) return { op: "writeMemory", ret: -14 };
          this.bytes.set(op.data, op.gpa);
          return { op: "writeMemory", ret: 0 };
        }
        if (op.op === "readMemory") {
          return {
            op: "readMemory",
            ret: 0,
            data: Buffer.from(this.bytes.subarray(op.gpa, op.gpa + op.length)),
          };
        }
        return { op: "status", code: 12, message: "unimplemented" };
      }),
    );
  }
}

describe("shadow guest ram", () => {
  it("touching a page that was neither loaded nor adopted throws kind notResident", () => {
    const ram = new ShadowGuestRam(new FakeHypervisorMemory(), 64 * 4096);
    assert.throws(
      () => ram.read(0x2000, 4),
      (e: unknown) => e instanceof GuestRamError && e.kind === "notResident",
    );
    assert.throws(
      () => {
        ram.writeU32(0x2000, 1);
      },
      (e: unknown) => e instanceof GuestRamError && e.kind === "notResident",
    );
  });

  it("an access outside guest memory throws kind outOfBounds", () => {
    const ram = new ShadowGuestRam(new FakeHypervisorMemory(), 64 * 4096);
    assert.throws(
      () => ram.read(64 * 4096 - 2, 4),
      (e: unknown) => e instanceof GuestRamError && e.kind === "outOfBounds",
    );
  });

  it("load fetches pages; reads are then synchronous and see the hypervisor's bytes", async () => {
    const hv = new FakeHypervisorMemory();
    hv.bytes.set([1, 2, 3, 4], 0x3ffe);
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0x3000, 0x2000);
    assert.deepEqual([...ram.read(0x3ffe, 4)], [1, 2, 3, 4], "across a page boundary");
    assert.equal(ram.readU32(0x3ffe), 0x04030201);
  });

  it("flush writes only dirty bytes, merging spans that meet across pages, in one batch", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0x4000, 3 * 4096);
    ram.write(0x4ff0, new Uint8Array(0x20).fill(7)); // spans pages 4 and 5
    ram.writeU16(0x6010, 0xbeef);
    assert.equal(ram.dirtyBytes, 0x22);
    await ram.flush();
    assert.equal(hv.batches.length, 2, "one load batch, one flush batch");
    const writes = hv.batches[1] ?? [];
    assert.deepEqual(
      writes.map((w) => (w.op === "writeMemory" ? [w.gpa, w.data.length] : [])),
      [
        [0x4ff0, 0x20],
        [0x6010, 2],
      ],
    );
    assert.equal(hv.bytes[0x5000], 7);
    assert.equal(ram.dirtyBytes, 0);
    await ram.flush();
    assert.equal(hv.batches.length, 2, "nothing dirty, no hypercall");
  });

  it("adoptZeroed makes page runs resident, zero and dirty without a load", async () => {
    const hv = new FakeHypervisorMemory();
    hv.bytes.fill(0xaa, 0x8000, 0x9000);
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    ram.adoptZeroed(0x8000, 0x1000);
    assert.equal(ram.readU8(0x8000), 0);
    await ram.flush();
    assert.ok(hv.bytes.subarray(0x8000, 0x9000).every((b) => b === 0));
    assert.throws(() => {
      ram.adoptZeroed(0x8001, 0x1000);
    }, RangeError);
  });

  it("load keeps local dirty bytes over the fetched ones (the shadow is newer)", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0, 4096);
    ram.writeU8(10, 0x55);
    hv.bytes[10] = 0x11;
    hv.bytes[11] = 0x22;
    await ram.load(0, 4096);
    assert.equal(ram.readU8(10), 0x55);
    assert.equal(ram.readU8(11), 0x22);
  });

  it("a failed flush throws kind hypercallFailed and leaves the bytes dirty for the next flush", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0, 4096);
    ram.writeU32(100, 0x01020304);
    hv.failWrites = true;
    await assert.rejects(
      ram.flush(),
      (e: unknown) => e instanceof GuestRamError && e.kind === "hypercallFailed",
    );
    assert.equal(ram.dirtyBytes, 4);
    hv.failWrites = false;
    await ram.flush();
    assert.equal(hv.bytes[100], 4);
  });

  it("writes made while a flush is in flight stay dirty for the next one", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0, 4096);
    ram.writeU8(1, 1);
    const f = ram.flush();
    ram.writeU8(2, 2);
    await f;
    assert.equal(ram.dirtyBytes, 1);
  });
});

describe("in-memory guest ram", () => {
  it("takeWrites hands the dirty spans over as WriteMemory ops in address order and sends nothing itself", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0x4000, 4 * 4096);
    ram.writeU16(0x6010, 0xbeef);
    ram.write(0x4ff0, new Uint8Array(0x20).fill(7)); // spans pages 4 and 5
    const batchesBefore = hv.batches.length;
    const pending = ram.takeWrites();
    assert.ok(pending !== null);
    assert.equal(hv.batches.length, batchesBefore, "no batch of its own");
    assert.deepEqual(
      pending.ops.map((w) => [w.op, w.gpa, w.data.length]),
      [
        ["writeMemory", 0x4ff0, 0x20],
        ["writeMemory", 0x6010, 2],
      ],
    );
    assert.equal(ram.dirtyBytes, 0, "taken spans are no longer dirty");
    // The ops hold a copy: a write after the take changes neither them (a resend after a
    // reconnect sends the same bytes) nor loses itself (it is dirty for the next take).
    ram.write(0x4ff0, new Uint8Array(0x20).fill(9));
    const first = pending.ops[0];
    assert.ok(first?.op === "writeMemory");
    assert.deepEqual([...first.data], new Array<number>(0x20).fill(7));
    assert.equal(ram.dirtyBytes, 0x20);
    assert.notEqual(ram.takeWrites(), null, "the new write is taken next");
    assert.equal(ram.takeWrites(), null, "nothing left to take");
    assert.equal(
      pending.settle([
        { op: "writeMemory", ret: 0 },
        { op: "writeMemory", ret: 0 },
      ]),
      null,
    );
    assert.equal(ram.dirtyBytes, 0);
    assert.equal(ram.stats.flushes, 1);
  });

  it("settle re-dirties a failed write and the ones stopOnError skipped, and returns the failure", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0x4000, 4 * 4096);
    ram.writeU32(0x4010, 1);
    ram.writeU32(0x5010, 2);
    ram.writeU32(0x6010, 3);
    const pending = ram.takeWrites();
    assert.ok(pending !== null);
    ram.writeU8(0x7000, 9); // written while the ops are out: stays dirty regardless
    const failure = pending.settle([
      { op: "writeMemory", ret: 0 },
      { op: "writeMemory", ret: -14 },
      { op: "status", code: 10, message: "skipped" },
    ]);
    assert.ok(failure instanceof GuestRamError && failure.kind === "hypercallFailed");
    assert.match(failure.message, /ret -14/);
    assert.equal(ram.dirtyBytes, 4 + 4 + 1, "the failed and the skipped span, and the new byte");
    await ram.flush();
    assert.equal(hv.bytes[0x5010], 2);
    assert.equal(hv.bytes[0x6010], 3);
    assert.equal(hv.bytes[0x7000], 9);
  });

  it("abandon puts every taken span back (nothing says what ran)", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0x4000, 2 * 4096);
    ram.writeU32(0x4010, 1);
    ram.writeU32(0x5010, 2);
    const pending = ram.takeWrites();
    assert.ok(pending !== null);
    const err = pending.abandon(new Error("link down"));
    assert.ok(err instanceof GuestRamError && err.kind === "hypercallFailed");
    assert.equal(ram.dirtyBytes, 8);
    assert.throws(() => pending.settle([]), /settled twice/);
  });

  it("in-memory ram has nothing to take (it is the authoritative copy)", () => {
    assert.equal(new InMemoryGuestRam(4096).takeWrites(), null);
  });

  it("in-place typed accessors match byte reads and writes, within a page and across a boundary, and dirty exactly their bytes", async () => {
    // Property: a random sequence of typed writes (some straddling the page boundary) leaves the
    // shadow, the typed reads and, after a flush, the hypervisor's copy equal to a plain
    // in-memory reference; the dirty span covers only the bytes written.
    const seed = propertySeed("shadow typed accessors");
    const width = { u8: 1, u16: 2, u32: 4, u64: 8 } as const;
    type Kind = keyof typeof width;
    const base = 0x4000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            kind: fc.constantFrom<Kind>("u8", "u16", "u32", "u64"),
            // Offsets around the page boundary at base + 4096, so many accesses straddle it.
            at: fc.integer({ min: 4096 - 16, max: 4096 + 8 }),
            value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        async (writes) => {
          const hv = new FakeHypervisorMemory();
          const ram = new ShadowGuestRam(hv, 64 * 4096);
          await ram.load(base, 2 * 4096);
          const ref = new InMemoryGuestRam(64 * 4096);
          let lo = Infinity;
          let hi = 0;
          for (const w of writes) {
            const gpa = base + w.at;
            const n = width[w.kind];
            lo = Math.min(lo, gpa);
            hi = Math.max(hi, gpa + n);
            const v = w.value & ((1n << BigInt(8 * n)) - 1n);
            for (const m of [ram, ref]) {
              if (w.kind === "u64") m.writeU64(gpa, v);
              else if (w.kind === "u32") m.writeU32(gpa, Number(v));
              else if (w.kind === "u16") m.writeU16(gpa, Number(v));
              else m.writeU8(gpa, Number(v));
            }
            assert.equal(ram.readU64(gpa - (gpa % 8)), ref.readU64(gpa - (gpa % 8)));
            assert.equal(ram.readU32(gpa), ref.readU32(gpa));
            assert.equal(ram.readU16(gpa + 1), ref.readU16(gpa + 1));
            assert.equal(ram.readU8(gpa), ref.readU8(gpa));
          }
          assert.deepEqual(ram.read(base, 2 * 4096), ref.read(base, 2 * 4096));
          // Dirty spans are per page: at most the written range, split at the boundary.
          assert.ok(ram.dirtyBytes <= hi - lo, `${ram.dirtyBytes} dirty bytes for [${lo}, ${hi})`);
          await ram.flush();
          assert.deepEqual(hv.bytes.subarray(base, base + 2 * 4096), ref.read(base, 2 * 4096));
        },
      ),
      { seed, numRuns: 200 },
    );
  });

  it("bytes the device wrote stay in the shadow: no flush carries them until the driver exposes them to a device", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    ram.adoptZeroed(0x4000, 3 * 4096);
    await ram.flush();
    hv.batches.length = 0;
    const read = new Uint8Array(5000).fill(0xc3);
    ram.writeFromDevice(0x4800, read);
    assert.deepEqual(ram.read(0x4800, 5000), read, "the driver sees the completion at once");
    assert.equal(ram.takeWrites(), null, "a completed read is not written back");
    assert.equal(ram.unsyncedBytes, 5000);
    ram.writeU32(0x6000, 7); // a driver write elsewhere flushes alone
    await ram.flush();
    assert.deepEqual(
      hv.batches.flat().map((op) => (op.op === "writeMemory" ? op.data.length : -1)),
      [4],
    );
    // The driver hands part of the buffer to a device to read: the unsynced bytes of that part,
    // and only those, go out with the next prelude (the sendv reads the hypervisor's copy).
    ram.exposeToDevice(0x4ffc, 16);
    await ram.flush();
    assert.deepEqual(hv.bytes.subarray(0x4ffc, 0x4ffc + 16), read.subarray(0, 16));
    assert.equal(hv.bytes[0x4ffb], 0, "not exposed, not written");
    assert.equal(ram.unsyncedBytes, 5000 - 16);
    ram.exposeToDevice(0x4800, 5000);
    await ram.flush();
    assert.deepEqual(hv.bytes.subarray(0x4800, 0x4800 + 5000), read);
    assert.equal(ram.unsyncedBytes, 0);
    assert.equal(ram.takeWrites(), null, "written once");
  });

  it("a blk request's header and status on one page flush without the buffer between them", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    ram.adoptZeroed(0x4000, 4096);
    await ram.flush();
    hv.batches.length = 0;
    // A 4 KiB read whose header (16 B) and status byte share a page with a completed read's data.
    ram.writeFromDevice(0x4100, new Uint8Array(2000).fill(7));
    ram.write(0x4010, new Uint8Array(16).fill(1));
    ram.writeU8(0x4f00, 0xff);
    ram.exposeToDevice(0x4010, 16);
    await ram.flush();
    assert.deepEqual(
      hv.batches.flat().map((op) => (op.op === "writeMemory" ? [op.gpa, op.data.length] : [])),
      [
        [0x4010, 16],
        [0x4f00, 1],
      ],
    );
    assert.equal(ram.unsyncedBytes, 2000, "the other buffer's completed data stays local");
  });

  it("a load keeps device-written bytes the hypervisor has not got", async () => {
    const hv = new FakeHypervisorMemory();
    const ram = new ShadowGuestRam(hv, 64 * 4096);
    await ram.load(0x8000, 4096);
    ram.writeFromDevice(0x8010, Uint8Array.of(9, 9, 9));
    hv.bytes.set([1, 1, 1, 1, 1], 0x800e);
    await ram.load(0x8000, 4096);
    assert.deepEqual([...ram.read(0x800e, 5)], [1, 1, 9, 9, 9]);
    ram.exposeToDevice(0x8000, 4096);
    await ram.flush();
    assert.deepEqual([...hv.bytes.subarray(0x800e, 0x8013)], [1, 1, 9, 9, 9]);
  });

  it("typed accessors are little-endian and bounds-checked", () => {
    const ram = new InMemoryGuestRam(16);
    ram.writeU64(8, 0x0102030405060708n);
    assert.deepEqual([...ram.read(8, 8)], [8, 7, 6, 5, 4, 3, 2, 1]);
    assert.equal(ram.readU16(8), 0x0708);
    assert.throws(
      () => ram.readU32(14),
      (e: unknown) => e instanceof GuestRamError && e.kind === "outOfBounds",
    );
    assert.equal(ram.contains(0, 16), true);
    assert.equal(ram.contains(1, 16), false);
    assert.equal(ram.contains(Number.MAX_SAFE_INTEGER, 1), false);
  });
});

describe("shadow guest ram over the real hypervisor core", () => {
  it("a blk round trip over the loopback transport runs on shadowed guest pages and flushes to the hypervisor", async () => {
    const hv = new InProcessHypervisor();
    const client = hv.createGuest({ memoryBytes: 4 << 20 });
    const ram = new ShadowGuestRam(client, 4 << 20);
    const region = { gpa: 0x100000, len: 0x100000 };
    ram.adoptZeroed(region.gpa, region.len);
    const transport = new LoopbackTransport({
      ram,
      dma: new DmaAllocator(region.gpa, region.len),
      device: new BlkDevice({ backend: new MemoryBlockBackend(16 * 512) }),
    });
    const blk = await BlkDriver.create(transport);
    const data = new Uint8Array(512).fill(0x5a);
    await blk.write(2, data);
    assert.deepEqual(await blk.read(2, 1), data);
    await ram.flush();
    // The hypervisor's copy now holds the rings the driver wrote: avail.idx of queue 0 is 2.
    const setup = transport.controller.queueSetup(0);
    assert.ok(setup);
    const { ret, data: idx } = await client.readMemory(setup.binding.availAddr + 2, 2);
    assert.equal(ret, 0);
    assert.equal(idx.readUInt16LE(0), 2);
    await client.close();
  });
});
