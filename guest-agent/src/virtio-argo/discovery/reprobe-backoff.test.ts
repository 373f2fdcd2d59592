// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_REPROBE_BACKOFF, reprobeDelayMs } from "./reprobe-backoff.js";

describe("re-probe backoff", () => {
  test("the pause starts at minMs and doubles after each failed re-probe", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((a) => reprobeDelayMs(a)),
      [500, 1000, 2000, 4000, 8000],
    );
  });

  test("the pause never exceeds maxMs, however long the back end stays away", () => {
    assert.equal(reprobeDelayMs(6), DEFAULT_REPROBE_BACKOFF.maxMs);
    assert.equal(reprobeDelayMs(1_000_000), DEFAULT_REPROBE_BACKOFF.maxMs);
    assert.equal(reprobeDelayMs(3, { minMs: 50, maxMs: 120 }), 120);
  });

  test("a bad attempt or backoff is refused with an error naming the value", () => {
    assert.throws(() => reprobeDelayMs(0), /got 0/);
    assert.throws(() => reprobeDelayMs(1.5), /got 1.5/);
    assert.throws(() => reprobeDelayMs(1, { minMs: 0, maxMs: 10 }), /minMs .* got 0/);
    assert.throws(() => reprobeDelayMs(1, { minMs: 10, maxMs: 5 }), /maxMs .* got 5/);
    assert.throws(() => reprobeDelayMs(1, { minMs: 10, maxMs: Infinity }), /got Infinity/);
  });
});
