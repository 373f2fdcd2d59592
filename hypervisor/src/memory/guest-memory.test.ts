// SPDX-License-Identifier: Apache-2.0
/** Tests of lazily materialised guest memory: zero-fill, bounds (EFAULT) and its reservation. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crc32 } from "node:zlib";

import { PAGE_SIZE } from "@hmx/proto/abi";

import { GuestMemory } from "./guest-memory.js";
import { MemoryQuota, MemoryQuotaExhaustedError } from "./memory-quota.js";

const MiB = 1024 * 1024;

describe("GuestMemory lazy allocation", () => {
  test("new memory reserves its whole size from the quota but materialises no pages", () => {
    const q = new MemoryQuota(80 * MiB);
    const m = new GuestMemory(64 * MiB, q);
    assert.equal(m.sizeBytes, 64 * MiB);
    assert.equal(m.pageCount, (64 * MiB) / PAGE_SIZE);
    assert.equal(m.residentBytes, 0);
    assert.equal(q.usedBytes, 64 * MiB);
    assert.equal(q.availableBytes, 16 * MiB);
  });

  test("reading unwritten memory returns zeros without materialising pages", () => {
    const q = new MemoryQuota(MiB);
    const m = new GuestMemory(MiB, q);
    const data = m.read(3 * PAGE_SIZE - 10, 100);
    assert.ok(data !== null);
    assert.deepEqual(data, Buffer.alloc(100));
    assert.equal(m.residentBytes, 0);
  });

  test("a write materialises exactly the pages it touches, inside the reservation", () => {
    const q = new MemoryQuota(MiB);
    const m = new GuestMemory(MiB, q);
    assert.equal(m.write(PAGE_SIZE - 2, Buffer.from([1, 2, 3, 4])), "ok");
    assert.equal(m.residentBytes, 2 * PAGE_SIZE);
    assert.equal(q.usedBytes, MiB);
    assert.equal(m.isResident(0), true);
    assert.equal(m.isResident(1), true);
    assert.equal(m.isResident(2), false);
    assert.deepEqual(m.read(PAGE_SIZE - 3, 6), Buffer.from([0, 1, 2, 3, 4, 0]));
  });

  test("a materialised page is zero-filled apart from what was written", () => {
    const m = new GuestMemory(MiB, new MemoryQuota(MiB));
    m.write(100, Buffer.from([0xff]));
    const page = m.read(0, PAGE_SIZE);
    assert.ok(page !== null);
    assert.equal(page.filter((b) => b !== 0).length, 1);
  });

  test("write copies the caller's bytes rather than keeping a reference to them", () => {
    const m = new GuestMemory(MiB, new MemoryQuota(MiB));
    const src = Buffer.from([1, 2, 3]);
    m.write(0, src);
    src[0] = 9;
    assert.deepEqual(m.read(0, 3), Buffer.from([1, 2, 3]));
  });

  test("write accepts a Uint8Array view with a non-zero byteOffset", () => {
    const m = new GuestMemory(MiB, new MemoryQuota(MiB));
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    assert.equal(m.write(10, backing.subarray(2, 5)), "ok");
    assert.deepEqual(m.read(10, 3), Buffer.from([1, 2, 3]));
  });
});

describe("GuestMemory bounds", () => {
  const size = 16 * PAGE_SIZE;
  const cases: [string, number, number][] = [
    ["read past the end", size - 1, 2],
    ["negative gpa", -1, 1],
    ["Infinity gpa", Infinity, 1],
    ["NaN gpa", Number.NaN, 1],
    ["fractional gpa", 1.5, 1],
    ["huge length", 0, 2 ** 60],
    ["gpa beyond 2^53", 2 ** 54, 1],
  ];
  for (const [what, gpa, length] of cases) {
    test(`read returns null (EFAULT) for ${what}`, () => {
      const m = new GuestMemory(size, new MemoryQuota(MiB));
      assert.equal(m.read(gpa, length), null);
    });
  }

  test("write returns efault for any byte outside memory and writes nothing", () => {
    const q = new MemoryQuota(MiB);
    const m = new GuestMemory(size, q);
    assert.equal(m.write(size - 2, Buffer.from([1, 2, 3])), "efault");
    assert.equal(m.write(Infinity, Buffer.from([1])), "efault");
    assert.equal(m.residentBytes, 0);
    assert.equal(q.usedBytes, size);
  });

  test("a write beyond a domain's own size is efault even when the quota has room to spare", () => {
    const q = new MemoryQuota(64 * MiB);
    const m = new GuestMemory(size, q);
    assert.equal(m.write(size, Buffer.from([1])), "efault");
    assert.equal(m.residentBytes, 0);
    assert.equal(q.usedBytes, size);
  });

  test("a zero-length access at the very end of memory is in bounds", () => {
    const m = new GuestMemory(size, new MemoryQuota(MiB));
    assert.deepEqual(m.read(size, 0), Buffer.alloc(0));
    assert.equal(m.write(size, Buffer.alloc(0)), "ok");
    assert.equal(m.read(size + 1, 0), null);
  });

  test("the last byte of memory is readable and writable", () => {
    const m = new GuestMemory(size, new MemoryQuota(MiB));
    assert.equal(m.write(size - 1, Buffer.from([7])), "ok");
    assert.deepEqual(m.read(size - 1, 1), Buffer.from([7]));
  });
});

describe("GuestMemory reservation", () => {
  test("memory the quota cannot reserve is refused with MemoryQuotaExhaustedError, reserving nothing", () => {
    const q = new MemoryQuota(2 * MiB);
    new GuestMemory(MiB + PAGE_SIZE, q);
    assert.throws(
      () => new GuestMemory(MiB, q),
      (err: unknown) =>
        err instanceof MemoryQuotaExhaustedError &&
        err.requestedBytes === MiB &&
        err.availableBytes === MiB - PAGE_SIZE &&
        err.limitBytes === 2 * MiB,
    );
    assert.equal(q.usedBytes, MiB + PAGE_SIZE);
  });

  test("a domain's memory is reserved at creation: another domain touching all of its own cannot take it", () => {
    const q = new MemoryQuota(2 * MiB);
    const victim = new GuestMemory(MiB, q);
    // Asking for the whole total, as memory that is only promised, not touched, once could.
    assert.throws(() => new GuestMemory(2 * MiB, q), MemoryQuotaExhaustedError);
    const attacker = new GuestMemory(MiB, q);
    assert.equal(attacker.write(0, Buffer.alloc(MiB, 0xee)), "ok");
    assert.equal(attacker.write(MiB, Buffer.from([1])), "efault");
    assert.throws(() => new GuestMemory(PAGE_SIZE, q), MemoryQuotaExhaustedError);
    // Every page of the victim can still be materialised, by a write or by a ring.
    assert.equal(victim.write(0, Buffer.alloc(MiB / 2, 1)), "ok");
    const pages = victim.pinPages(Array.from({ length: 128 }, (_, i) => 128 + i));
    assert.ok(Array.isArray(pages));
    assert.equal(victim.residentBytes, MiB);
    assert.equal(q.usedBytes, 2 * MiB);
  });

  test("materialising and rewriting pages leaves the quota unchanged", () => {
    const q = new MemoryQuota(MiB);
    const m = new GuestMemory(MiB, q);
    assert.equal(m.write(0, Buffer.from([1])), "ok");
    assert.equal(m.write(10, Buffer.from([2])), "ok");
    assert.equal(m.write(PAGE_SIZE, Buffer.from([3])), "ok");
    assert.equal(q.usedBytes, MiB);
  });

  test("release returns the whole reservation, touched or not, and leaves the memory empty", () => {
    const q = new MemoryQuota(MiB);
    const m = new GuestMemory(MiB, q);
    m.write(0, Buffer.alloc(5 * PAGE_SIZE, 1));
    m.release();
    assert.equal(q.usedBytes, 0);
    assert.equal(m.residentBytes, 0);
    assert.equal(m.sizeBytes, 0);
    assert.equal(m.read(0, 1), null);
    assert.equal(m.write(0, Buffer.from([1])), "efault");
    m.release();
    assert.equal(q.usedBytes, 0);
    // What was released can be reserved again.
    new GuestMemory(MiB, q);
    assert.equal(q.usedBytes, MiB);
  });
});

describe("GuestMemory pinPages", () => {
  test("pinPages materialises the pages and returns the live page buffers in order", () => {
    const q = new MemoryQuota(MiB);
    const m = new GuestMemory(MiB, q);
    m.write(17 * PAGE_SIZE, Buffer.from([0xaa]));
    const pages = m.pinPages([17, 16]);
    assert.ok(Array.isArray(pages));
    assert.equal(pages.length, 2);
    assert.equal(pages[0]?.[0], 0xaa);
    pages[1]?.writeUInt8(0x55, 3);
    assert.deepEqual(m.read(16 * PAGE_SIZE + 3, 1), Buffer.from([0x55]));
    assert.equal(m.residentBytes, 2 * PAGE_SIZE);
  });

  test("pinPages materialises a gfn listed twice only once", () => {
    const m = new GuestMemory(MiB, new MemoryQuota(MiB));
    const pages = m.pinPages([20, 20]);
    assert.ok(Array.isArray(pages));
    assert.equal(pages[0], pages[1]);
    assert.equal(m.residentBytes, PAGE_SIZE);
  });

  const bad: [string, number][] = [
    ["a platform-reserved gfn below 16", 15],
    ["gfn 0", 0],
    ["a gfn past the end of memory", 256],
    ["a negative gfn", -1],
    ["a fractional gfn", 16.5],
    ["an infinite gfn", Infinity],
  ];
  for (const [what, gfn] of bad) {
    test(`pinPages rejects ${what} with einval and materialises nothing`, () => {
      const m = new GuestMemory(MiB, new MemoryQuota(MiB));
      assert.equal(m.pinPages([16, gfn]), "einval");
      assert.equal(m.residentBytes, 0);
      assert.equal(m.isResident(16), false);
    });
  }
});

describe("GuestMemory crc32", () => {
  test("crc32 equals zlib's CRC-32 of what read returns, across pages, chained, unwritten pages as zeros", () => {
    const m = new GuestMemory(8 * PAGE_SIZE, new MemoryQuota(MiB));
    // Pages 1, 2 and 5 hold data; the rest were never written.
    for (const gfn of [1, 2, 5]) {
      const page = Buffer.alloc(PAGE_SIZE);
      for (let i = 0; i < PAGE_SIZE; i++) page[i] = (gfn * 31 + i * 7) & 0xff;
      m.write(gfn * PAGE_SIZE, page);
    }
    const resident = m.residentBytes;
    // Within a page, short (JavaScript) and long (zlib) runs, across written and unwritten pages.
    const cases: [number, number][] = [
      [PAGE_SIZE + 5, 64],
      [PAGE_SIZE + 5, 3000],
      [2 * PAGE_SIZE - 10, 20],
      [2 * PAGE_SIZE - 100, 4 * PAGE_SIZE],
      [0, 8 * PAGE_SIZE],
      [3 * PAGE_SIZE, 0],
    ];
    for (const [gpa, len] of cases) {
      const bytes = m.read(gpa, len);
      assert.ok(bytes !== null);
      assert.equal(m.crc32(gpa, len, 0), crc32(bytes), `${gpa}+${len}`);
      assert.equal(m.crc32(gpa, len, 0x1234abcd), crc32(bytes, 0x1234abcd), `${gpa}+${len}`);
    }
    assert.equal(m.residentBytes, resident, "reading for the CRC materialises no page");
  });
});
