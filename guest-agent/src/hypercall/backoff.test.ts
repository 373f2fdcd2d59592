// SPDX-License-Identifier: Apache-2.0
/** Tests of the reconnect backoff: growth, cap, jitter range, attempt limit and reset. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Backoff, DEFAULT_BACKOFF } from "./backoff.js";

describe("Backoff", () => {
  it("doubles from 50 ms and caps at 2 s by default (no randomness)", () => {
    const b = new Backoff({}, () => 0);
    const delays = Array.from({ length: 8 }, () => b.next());
    assert.deepEqual(delays, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
    assert.equal(b.attempt, 8);
  });

  it("jitter takes at most the jitter fraction off each delay", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 100, jitter: 0.5 }, () => 0.999999);
    assert.equal(b.next(), 50);
    const random = new Backoff({ initialMs: 1000, maxMs: 1000 });
    for (let i = 0; i < 100; i++) {
      const d = random.next() ?? -1;
      assert.ok(d >= 500 && d <= 1000, `delay ${d} outside [500, 1000]`);
    }
  });

  it("gives up after maxAttempts and starts over after reset", () => {
    const b = new Backoff({ maxAttempts: 2 }, () => 0);
    assert.equal(b.next(), 50);
    assert.equal(b.next(), 100);
    assert.equal(b.next(), undefined);
    b.reset();
    assert.equal(b.next(), 50);
  });

  it("never gives up by default", () => {
    assert.equal(DEFAULT_BACKOFF.maxAttempts, Number.POSITIVE_INFINITY);
    const b = new Backoff({}, () => 0);
    for (let i = 0; i < 10_000; i++) assert.notEqual(b.next(), undefined);
  });

  it("rejects nonsensical settings", () => {
    assert.throws(() => new Backoff({ initialMs: 100, maxMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ multiplier: 0.5 }), RangeError);
    assert.throws(() => new Backoff({ jitter: 2 }), RangeError);
    assert.throws(() => new Backoff({ maxAttempts: 0 }), RangeError);
  });
});
