// SPDX-License-Identifier: Apache-2.0
/**
 * `PrefetchPolicy`, the read-ahead guesses of a receive ring (rx-ring.ts "What is read, and
 * why"), as pure numbers: a pass reads the last burst, a wasted pass shrinks it to one message,
 * a publish reads what is known plus what arrived during the last turn while the sender
 * outpaces the reader, and a deferred publish forgets the sender's pace.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PREFETCH_MIN, PrefetchPolicy } from "./prefetch-policy.js";

describe("receive ring prefetch policy", () => {
  it("a fresh ring's VIRQ pass reads the minimum", () => {
    assert.equal(new PrefetchPolicy().passBytes, PREFETCH_MIN);
  });

  it("a VIRQ pass reads as much as the last pass found", () => {
    const p = new PrefetchPolicy();
    p.passFound(40_000);
    assert.equal(p.passBytes, 40_000);
  });

  it("a pass whose prefetch found the ring empty shrinks the next to one message's worth", () => {
    const p = new PrefetchPolicy();
    p.passFound(40_000);
    p.took(1040);
    p.passFound(0);
    assert.equal(p.passBytes, 1040);
    p.took(80);
    p.passFound(0);
    assert.equal(p.passBytes, PREFETCH_MIN, "never below the minimum");
  });

  it("a publish reads only what is known while the sender is not outpacing the reader", () => {
    const p = new PrefetchPolicy();
    assert.equal(p.afterPublish(0), 0, "an empty ring: nothing");
    assert.equal(p.afterPublish(500), 500);
    p.published(500, 500); // nothing new arrived during the turn
    assert.equal(p.afterPublish(100), 100);
  });

  it("while the sender outpaces the reader a publish also reads what arrived during the last turn, and the next pass reads the whole backlog", () => {
    const p = new PrefetchPolicy();
    p.published(1000, 4000); // 3000 bytes arrived while the turn ran
    assert.equal(p.afterPublish(1000), 4000);
    assert.equal(p.passBytes, 4000);
  });

  it("a deferred publish forgets the sender's pace (no tx read followed it)", () => {
    const p = new PrefetchPolicy();
    p.published(1000, 4000);
    p.deferred();
    assert.equal(p.afterPublish(1000), 1000);
  });
});
