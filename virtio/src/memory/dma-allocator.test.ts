// SPDX-License-Identifier: Apache-2.0
/** `DmaAllocator`: alignment, exhaustion, and coalescing on free. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DmaAllocationError, DmaAllocator } from "./dma-allocator.js";

describe("dma allocator", () => {
  it("honours the requested alignment", () => {
    const a = new DmaAllocator(0x1001, 0x3000);
    assert.equal(a.alloc(3, 16) % 16, 0);
    assert.equal(a.alloc(5, 4096) % 4096, 0);
  });

  it("fails with DmaAllocationError when no extent is large enough", () => {
    const a = new DmaAllocator(0, 64);
    a.alloc(48, 16);
    assert.throws(() => a.alloc(32, 16), DmaAllocationError);
  });

  it("coalesces freed neighbours so the whole region can be allocated again", () => {
    const a = new DmaAllocator(0, 96);
    const x = a.alloc(32, 16);
    const y = a.alloc(32, 16);
    const z = a.alloc(32, 16);
    a.free(y);
    a.free(x);
    a.free(z);
    assert.equal(a.freeBytes, 96);
    assert.equal(a.alloc(96, 16), 0);
  });

  it("refuses to free an address it did not hand out", () => {
    const a = new DmaAllocator(0, 64);
    assert.throws(() => {
      a.free(8);
    }, RangeError);
  });
});
