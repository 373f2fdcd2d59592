// SPDX-License-Identifier: Apache-2.0
/** Tests of the hypervisor-wide memory quota. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { MemoryQuota } from "./memory-quota.js";

describe("MemoryQuota", () => {
  test("tryReserve grants bytes up to the limit and refuses beyond it without reserving", () => {
    const q = new MemoryQuota(8192);
    assert.equal(q.tryReserve(4096), true);
    assert.equal(q.tryReserve(8192), false);
    assert.equal(q.usedBytes, 4096);
    assert.equal(q.tryReserve(4096), true);
    assert.equal(q.usedBytes, 8192);
    assert.equal(q.limitBytes, 8192);
  });

  test("release returns bytes and releasing more than in use throws", () => {
    const q = new MemoryQuota(8192);
    q.tryReserve(4096);
    q.release(4096);
    assert.equal(q.usedBytes, 0);
    assert.throws(() => {
      q.release(1);
    }, RangeError);
  });

  test("tryReserve refuses negative, fractional and infinite sizes", () => {
    const q = new MemoryQuota(8192);
    assert.equal(q.tryReserve(-1), false);
    assert.equal(q.tryReserve(1.5), false);
    assert.equal(q.tryReserve(Infinity), false);
    assert.equal(q.usedBytes, 0);
  });

  test("the constructor rejects a limit that is not a non-negative safe integer", () => {
    assert.throws(() => new MemoryQuota(-1), RangeError);
    assert.throws(() => new MemoryQuota(Number.NaN), RangeError);
  });
});
