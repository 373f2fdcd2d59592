// SPDX-License-Identifier: Apache-2.0
/** Tests of the hypervisor-wide memory quota: reservations, their limit and the refusal message. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { MemoryQuota, MemoryQuotaExhaustedError, describeBytes } from "./memory-quota.js";

const MiB = 1024 * 1024;

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

describe("MemoryQuota reserve", () => {
  test("reserve takes bytes up to the limit and availableBytes is what is left", () => {
    const q = new MemoryQuota(3 * MiB);
    q.reserve(MiB);
    q.reserve(2 * MiB);
    assert.equal(q.usedBytes, 3 * MiB);
    assert.equal(q.availableBytes, 0);
    q.release(MiB);
    assert.equal(q.availableBytes, MiB);
  });

  test("reserve beyond the limit throws MemoryQuotaExhaustedError naming the sizes and the flag, reserving nothing", () => {
    const q = new MemoryQuota(64 * MiB);
    q.reserve(16 * MiB);
    assert.throws(
      () => {
        q.reserve(64 * MiB);
      },
      (err: unknown) => {
        assert.ok(err instanceof MemoryQuotaExhaustedError);
        assert.equal(err.requestedBytes, 64 * MiB);
        assert.equal(err.availableBytes, 48 * MiB);
        assert.equal(err.limitBytes, 64 * MiB);
        assert.match(err.message, /67108864 bytes \(64 MiB\)/);
        assert.match(err.message, /only 50331648 bytes \(48 MiB\) of the 67108864 bytes/);
        assert.match(err.message, /--max-total-memory/);
        return true;
      },
    );
    assert.equal(q.usedBytes, 16 * MiB);
  });

  test("reserve rejects a size that is not a non-negative safe integer with a RangeError", () => {
    const q = new MemoryQuota(MiB);
    for (const bad of [-1, 1.5, Infinity, Number.NaN]) {
      assert.throws(
        () => {
          q.reserve(bad);
        },
        RangeError,
        String(bad),
      );
    }
    assert.equal(q.usedBytes, 0);
  });
});

describe("describeBytes", () => {
  test("gives the exact byte count and a MiB figure rounded to two places", () => {
    assert.equal(describeBytes(16 * MiB), "16777216 bytes (16 MiB)");
    assert.equal(describeBytes(65536), "65536 bytes (0.06 MiB)");
    assert.equal(describeBytes(0), "0 bytes (0 MiB)");
  });
});
