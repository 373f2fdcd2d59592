// SPDX-License-Identifier: Apache-2.0
/**
 * ByteBatch hands each batch to a writer and gathers the next one in a buffer the writer gave
 * back (`recycle`): a batch still being written must never be overwritten, and a recycled one
 * must be reused rather than a new buffer allocated per pump.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ByteBatch } from "./byte-batch.js";

describe("ByteBatch", () => {
  test("a batch handed to a writer is never overwritten until the writer recycles it", () => {
    const batch = new ByteBatch();
    batch.push(Buffer.from("first"));
    const first = batch.take();
    batch.push(Buffer.from("second"));
    const second = batch.take();
    assert.equal(first.toString(), "first");
    assert.equal(second.toString(), "second");
    assert.notEqual(first.buffer, second.buffer, "the second batch has a buffer of its own");
  });

  test("a recycled batch's buffer gathers a later batch (no new buffer per pump)", () => {
    const batch = new ByteBatch();
    batch.push(Buffer.from("first"));
    const first = batch.take();
    batch.recycle(first);
    batch.push(Buffer.from("filler"));
    const filler = batch.take(); // the buffer that was current when `first` was taken
    batch.push(Buffer.from("third"));
    const third = batch.take();
    assert.equal(third.buffer, first.buffer, "the recycled buffer is reused");
    assert.equal(third.toString(), "third");
    assert.equal(filler.toString(), "filler");
  });

  test("bytes written in place after reserve land in the batch, growing it past its first buffer", () => {
    const batch = new ByteBatch();
    const big = Buffer.alloc(40 * 1024, 0x61);
    batch.push(big);
    const at = batch.reserve(3);
    batch.buffer.write("xyz", at, "latin1");
    batch.advance(3);
    const out = batch.take();
    assert.equal(out.length, big.length + 3);
    assert.equal(out.subarray(-3).toString(), "xyz");
  });
});
