// SPDX-License-Identifier: Apache-2.0
/**
 * `ByteSpans` against a plain per-byte reference: every marked byte stays covered, the list
 * stays short, sorted and disjoint, and `take` hands out exactly the covered part of its
 * range and leaves the rest as it was.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { propertySeed } from "@hmx/virtio/test-utils";
import { ByteSpans, MAX_SPANS, MERGE_GAP } from "./byte-spans.js";

const PAGE = 4096;

function covered(s: ByteSpans): Uint8Array {
  const out = new Uint8Array(PAGE);
  for (const [lo, hi] of s.spans()) out.fill(1, lo, hi);
  return out;
}

function checkShape(s: ByteSpans): void {
  const list = [...s.spans()];
  assert.ok(list.length <= MAX_SPANS + 1, `${list.length} spans`);
  let end = -1;
  for (const [lo, hi] of list) {
    assert.ok(lo < hi && lo > end, `span [${lo}, ${hi}) after ${end}`);
    end = hi;
  }
}

describe("byte spans", () => {
  it("keeps a header and a status byte apart from the buffer between them", () => {
    const s = new ByteSpans();
    s.add(0x100, 0x110); // request header
    s.add(0x110 + 3000, 0x110 + 3001); // status byte after a 3,000-byte device-writable buffer
    assert.deepEqual(
      [...s.spans()],
      [
        [0x100, 0x110],
        [0x110 + 3000, 0x110 + 3001],
      ],
    );
    assert.equal(s.size, 17);
  });

  it("joins spans closer than the gap and the two closest past the limit", () => {
    const s = new ByteSpans();
    s.add(0, 2);
    s.add(2 + MERGE_GAP - 1, 2 + MERGE_GAP + 1);
    assert.deepEqual([...s.spans()], [[0, 2 + MERGE_GAP + 1]]);
    const t = new ByteSpans();
    for (let i = 0; i <= MAX_SPANS; i++) t.add(i * 200, i * 200 + 1);
    t.add(3 * 200 + 50, 3 * 200 + 51); // closest to span 3
    assert.equal([...t.spans()].length, MAX_SPANS);
    checkShape(t);
  });

  it("marks and takes like a per-byte reference (property)", () => {
    const seed = propertySeed("byte spans");
    const range = fc
      .tuple(fc.integer({ min: 0, max: PAGE - 1 }), fc.integer({ min: 1, max: 600 }))
      .map(([lo, n]) => [lo, Math.min(PAGE, lo + n)] as const);
    fc.assert(
      fc.property(
        fc.array(fc.record({ take: fc.boolean(), range }), { minLength: 1, maxLength: 40 }),
        (steps) => {
          const s = new ByteSpans();
          const marked = new Uint8Array(PAGE);
          for (const {
            take,
            range: [lo, hi],
          } of steps) {
            if (!take) {
              s.add(lo, hi);
              marked.fill(1, lo, hi);
            } else {
              const before = covered(s);
              const got = new Uint8Array(PAGE);
              for (const [a, b] of s.take(lo, hi)) {
                assert.ok(lo <= a && a < b && b <= hi, `taken [${a}, ${b}) outside [${lo}, ${hi})`);
                got.fill(1, a, b);
              }
              const after = covered(s);
              for (let i = 0; i < PAGE; i++) {
                const inside = i >= lo && i < hi;
                assert.equal(got[i], inside ? before[i] : 0, `byte ${i} taken`);
                assert.equal(after[i], inside ? 0 : before[i], `byte ${i} left`);
              }
              marked.fill(0, lo, hi);
            }
            checkShape(s);
            const now = covered(s);
            for (let i = 0; i < PAGE; i++)
              if (marked[i] === 1) assert.equal(now[i], 1, `marked byte ${i} not covered`);
            assert.equal(
              s.size,
              now.reduce((n, b) => n + b, 0),
            );
            assert.equal(s.isEmpty, s.size === 0);
          }
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});
