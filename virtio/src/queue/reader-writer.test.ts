// SPDX-License-Identifier: Apache-2.0
/**
 * `Reader` / `Writer` over a chain (VirtIO 1.2 §2.7.4 "Message Framing": the device must not
 * assume any descriptor arrangement): the same bytes read and write identically however the
 * driver splits them (fast-check), `splitAt` finds a trailer, and overruns are typed errors.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { InMemoryGuestRam } from "../memory/in-memory-guest-ram.js";
import { propertySeed } from "../test-utils/seed.js";
import type { ChainSegment } from "./descriptor-chain.js";
import { Reader } from "./reader.js";
import { VirtQueueError } from "./virtqueue-error.js";
import { Writer } from "./writer.js";

const seed = propertySeed("reader-writer");

/** Splits `total` bytes at 0x100 into segments of the given lengths (with gaps between them). */
function layout(lens: readonly number[], writable: boolean): ChainSegment[] {
  let at = 0x100;
  return lens.map((len) => {
    const s = { addr: at, len, writable };
    at += len + 7;
    return s;
  });
}

const splits = fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 });

describe("reader and writer (VirtIO 1.2 §2.7.4)", () => {
  it("reads the same bytes whatever the descriptor arrangement (property)", () => {
    fc.assert(
      fc.property(splits, fc.integer({ min: 0, max: 2 ** 31 }), (lens, salt) => {
        const ram = new InMemoryGuestRam(0x1000);
        const segs = layout(lens, false);
        const expected: number[] = [];
        for (const s of segs) {
          const b = Uint8Array.from(
            { length: s.len },
            (_, i) => (salt + expected.length + i) & 0xff,
          );
          ram.write(s.addr, b);
          expected.push(...b);
        }
        const r = new Reader(ram, segs);
        const firstPart = Math.min(3, expected.length);
        const got = [...r.read(firstPart), ...r.readAll()];
        assert.deepEqual(got, expected);
        assert.equal(r.available, 0);
      }),
      { seed, numRuns: 200 },
    );
  });

  it("writes the same bytes whatever the descriptor arrangement, and splitAt finds the last byte (property)", () => {
    fc.assert(
      fc.property(
        splits.filter((l) => l.reduce((a, b) => a + b, 0) > 0),
        (lens) => {
          const ram = new InMemoryGuestRam(0x1000);
          const segs = layout(lens, true);
          const total = lens.reduce((a, b) => a + b, 0);
          const w = new Writer(ram, segs);
          const status = w.splitAt(total - 1);
          assert.equal(status.available, 1);
          assert.equal(w.available, total - 1);
          w.write(Uint8Array.from({ length: total - 1 }, (_, i) => i & 0xff));
          status.writeU8(0xee);
          const back = new Reader(
            ram,
            segs.map((s) => ({ ...s, writable: false })),
          ).readAll();
          assert.deepEqual(
            [...back],
            [...Array.from({ length: total - 1 }, (_, i) => i & 0xff), 0xee],
          );
        },
      ),
      { seed, numRuns: 200 },
    );
  });

  it("a read within one segment hands out the memory's own copy, not a second copy of it", () => {
    const ram = new InMemoryGuestRam(0x1000);
    ram.write(
      0x100,
      Uint8Array.from({ length: 16 }, (_, i) => i),
    );
    const handed: Uint8Array[] = [];
    const read = ram.read.bind(ram);
    ram.read = (gpa, len) => {
      const b = read(gpa, len);
      handed.push(b);
      return b;
    };
    const r = new Reader(ram, layout([16, 4], false));
    const a = r.read(10);
    const b = r.read(6); // the rest of the first segment
    assert.equal(a, handed[0]);
    assert.equal(b, handed[1]);
    assert.deepEqual(
      [...a, ...b],
      Array.from({ length: 16 }, (_, i) => i),
    );
    ram.write(0x100, new Uint8Array(16)); // a copy: later writes do not show through
    assert.equal(a[9], 9);
    assert.equal(r.available, 4);
    assert.equal(r.bytesRead, 16);
  });

  it("reading past the readable part throws kind bufferTooShort and consumes nothing", () => {
    const ram = new InMemoryGuestRam(0x1000);
    const r = new Reader(ram, layout([4, 4], false));
    assert.throws(
      () => r.read(9),
      (e: unknown) => e instanceof VirtQueueError && e.kind === "bufferTooShort",
    );
    assert.equal(r.available, 8);
  });

  it("writing past the writable part throws kind bufferTooShort and writes nothing", () => {
    const ram = new InMemoryGuestRam(0x1000);
    const segs = layout([2], true);
    const w = new Writer(ram, segs);
    assert.throws(
      () => {
        w.write(Uint8Array.of(1, 2, 3));
      },
      (e: unknown) => e instanceof VirtQueueError && e.kind === "bufferTooShort",
    );
    assert.equal(w.bytesWritten, 0);
    assert.deepEqual([...ram.read(0x100, 2)], [0, 0]);
  });
});
