// SPDX-License-Identifier: Apache-2.0
/** Tests of the guest page allocator: contiguity, reuse, exhaustion, the reserved gfns 0-15. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import { gfnsOf, OutOfGuestMemoryError, PageAllocator } from "./page-allocator.js";

describe("page allocator", () => {
  it("hands out contiguous runs starting at gfn 16, never below", () => {
    const a = new PageAllocator({ memoryBytes: 64 * PAGE_SIZE });
    const r1 = a.allocate(3);
    const r2 = a.allocate(5);
    assert.equal(r1.gfn, FIRST_GUEST_GFN);
    assert.equal(r1.gpa, FIRST_GUEST_GFN * PAGE_SIZE);
    assert.equal(r1.bytes, 3 * PAGE_SIZE);
    assert.deepEqual(gfnsOf(r1), [16, 17, 18]);
    assert.equal(r2.gfn, 19);
    assert.equal(a.freePages, 64 - 16 - 8);
  });

  it("refuses a first gfn inside the platform-reserved gfns 0-15", () => {
    assert.throws(() => new PageAllocator({ memoryBytes: 1 << 20, firstGfn: 15 }), RangeError);
  });

  it("reuses freed pages and coalesces neighbours into one run", () => {
    const a = new PageAllocator({ memoryBytes: 32 * PAGE_SIZE }); // gfns 16..31: 16 pages
    const r1 = a.allocate(4);
    const r2 = a.allocate(4);
    const r3 = a.allocate(8);
    assert.throws(() => a.allocate(1), OutOfGuestMemoryError);
    a.free(r2);
    assert.equal(a.allocate(4).gfn, r2.gfn);
    a.free(r1);
    a.free(r3);
    assert.equal(a.largestFreeRun, 8);
    // free the middle run again: all 16 pages form one run
    a.free({ gfn: r2.gfn, npages: 4, gpa: r2.gpa, bytes: r2.bytes });
    assert.equal(a.largestFreeRun, 16);
    assert.equal(a.allocate(16).gfn, 16);
  });

  it("reports exhaustion with the numbers involved", () => {
    const a = new PageAllocator({ memoryBytes: 20 * PAGE_SIZE });
    a.allocate(2);
    const err = (() => {
      try {
        a.allocate(3);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof OutOfGuestMemoryError);
    assert.equal(err.requestedPages, 3);
    assert.equal(err.freePages, 2);
    assert.match(err.message, /no run of 3 contiguous pages/);
  });

  it("a memory of 16 pages or less has nothing to allocate", () => {
    const a = new PageAllocator({ memoryBytes: 16 * PAGE_SIZE });
    assert.equal(a.freePages, 0);
    assert.throws(() => a.allocate(1), OutOfGuestMemoryError);
  });

  it("rejects a double free", () => {
    const a = new PageAllocator({ memoryBytes: 64 * PAGE_SIZE });
    const r = a.allocate(2);
    a.free(r);
    assert.throws(() => {
      a.free(r);
    }, /not allocated/);
  });
});
