// SPDX-License-Identifier: Apache-2.0
/**
 * Device-side chain walking (VirtIO 1.2 §2.7.5, §2.7.5.3, §2.7.4.2; virtio-argo.md §4.9): valid
 * direct and indirect chains, and every way a hostile driver can break one, each rejected with
 * the named `VirtQueueError` kind.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MockSplitQueue } from "../test-utils/mock-split-queue.js";
import { DescriptorChain } from "./descriptor-chain.js";
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from "./split-ring.js";
import { VirtQueueError, type VirtQueueErrorKind } from "./virtqueue-error.js";

function walk(mq: MockSplitQueue, head: number, indirect = true): DescriptorChain {
  return DescriptorChain.checked(mq.ram, {
    descTable: mq.descAddr,
    queueSize: mq.size,
    head,
    indirect,
  });
}

function rejects(f: () => unknown, kind: VirtQueueErrorKind): void {
  assert.throws(f, (err: unknown) => err instanceof VirtQueueError && err.kind === kind);
}

describe("descriptor chain (VirtIO 1.2 §2.7.5)", () => {
  it("a chain of readable then writable descriptors is flattened in order", () => {
    const mq = new MockSplitQueue();
    const a = mq.allocBuffer(16);
    const b = mq.allocBuffer(100);
    const c = mq.allocBuffer(1);
    const head = mq.buildDescChain([
      { addr: a, len: 16 },
      { addr: b, len: 100, flags: VIRTQ_DESC_F_WRITE },
      { addr: c, len: 1, flags: VIRTQ_DESC_F_WRITE },
    ]);
    const chain = walk(mq, head);
    assert.equal(chain.head, head);
    assert.deepEqual(chain.segments, [
      { addr: a, len: 16, writable: false },
      { addr: b, len: 100, writable: true },
      { addr: c, len: 1, writable: true },
    ]);
    assert.equal(chain.readableBytes, 16);
    assert.equal(chain.writableBytes, 101);
  });

  it("an indirect descriptor expands to its table's chain and ignores its own WRITE flag", () => {
    const mq = new MockSplitQueue();
    const a = mq.allocBuffer(8);
    const b = mq.allocBuffer(8);
    const table = mq.writeIndirectTable([
      { addr: a, len: 8 },
      { addr: b, len: 8, flags: VIRTQ_DESC_F_WRITE },
    ]);
    const head = mq.buildDescChain([
      { ...table, flags: VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE },
    ]);
    const chain = walk(mq, head);
    assert.deepEqual(
      chain.segments.map((s) => s.writable),
      [false, true],
    );
  });

  it("direct descriptors followed by one indirect descriptor are a valid chain", () => {
    const mq = new MockSplitQueue();
    const table = mq.writeIndirectTable([
      { addr: mq.allocBuffer(4), len: 4, flags: VIRTQ_DESC_F_WRITE },
    ]);
    const head = mq.buildDescChain([
      { addr: mq.allocBuffer(4), len: 4 },
      { ...table, flags: VIRTQ_DESC_F_INDIRECT },
    ]);
    assert.equal(walk(mq, head).segments.length, 2);
  });

  it("a descriptor chain that loops is rejected with VirtQueueError kind descriptorLoop", () => {
    const mq = new MockSplitQueue({ size: 8 });
    const buf = mq.allocBuffer(4);
    mq.writeDesc(0, { addr: buf, len: 4, flags: VIRTQ_DESC_F_NEXT, next: 1 });
    mq.writeDesc(1, { addr: buf, len: 4, flags: VIRTQ_DESC_F_NEXT, next: 0 });
    rejects(() => walk(mq, 0), "descriptorLoop");
  });

  it("a descriptor pointing at itself is rejected with kind descriptorLoop", () => {
    const mq = new MockSplitQueue({ size: 8 });
    mq.writeDesc(3, { addr: mq.allocBuffer(4), len: 4, flags: VIRTQ_DESC_F_NEXT, next: 3 });
    rejects(() => walk(mq, 3), "descriptorLoop");
  });

  it("a loop inside an indirect table is rejected with kind descriptorLoop", () => {
    const mq = new MockSplitQueue();
    const buf = mq.allocBuffer(4);
    const table = mq.writeIndirectTable([
      { addr: buf, len: 4, next: 1 },
      { addr: buf, len: 4, flags: VIRTQ_DESC_F_NEXT, next: 0 },
    ]);
    const head = mq.buildDescChain([{ ...table, flags: VIRTQ_DESC_F_INDIRECT }]);
    rejects(() => walk(mq, head), "descriptorLoop");
  });

  it("a chain longer than the queue size (through an indirect table) is rejected with kind chainTooLong", () => {
    const mq = new MockSplitQueue({ size: 4 });
    const buf = mq.allocBuffer(4);
    const table = mq.writeIndirectTable(Array.from({ length: 5 }, () => ({ addr: buf, len: 4 })));
    const head = mq.buildDescChain([{ ...table, flags: VIRTQ_DESC_F_INDIRECT }]);
    rejects(() => walk(mq, head), "chainTooLong");
  });

  it("a head index at or above the queue size is rejected with kind descIndexOutOfBounds", () => {
    const mq = new MockSplitQueue({ size: 8 });
    rejects(() => walk(mq, 8), "descIndexOutOfBounds");
  });

  it("a next index at or above the queue size is rejected with kind descIndexOutOfBounds", () => {
    const mq = new MockSplitQueue({ size: 8 });
    mq.writeDesc(0, { addr: mq.allocBuffer(4), len: 4, flags: VIRTQ_DESC_F_NEXT, next: 8 });
    rejects(() => walk(mq, 0), "descIndexOutOfBounds");
  });

  it("an indirect next index beyond the table is rejected with kind descIndexOutOfBounds", () => {
    const mq = new MockSplitQueue();
    const table = mq.writeIndirectTable([
      { addr: mq.allocBuffer(4), len: 4, flags: VIRTQ_DESC_F_NEXT, next: 7 },
    ]);
    const head = mq.buildDescChain([{ ...table, flags: VIRTQ_DESC_F_INDIRECT }]);
    rejects(() => walk(mq, head), "descIndexOutOfBounds");
  });

  it("a buffer outside guest memory is rejected with kind bufferOutOfBounds", () => {
    const mq = new MockSplitQueue({ memorySize: 0x10000 });
    mq.writeDesc(0, { addr: 0xfff0, len: 0x20 });
    rejects(() => walk(mq, 0), "bufferOutOfBounds");
  });

  it("a buffer address above 2^53 is rejected with kind bufferOutOfBounds", () => {
    const mq = new MockSplitQueue();
    mq.ram.writeU64(mq.descAddr, 0xffff_ffff_ffff_f000n);
    mq.ram.writeU32(mq.descAddr + 8, 16);
    rejects(() => walk(mq, 0), "bufferOutOfBounds");
  });

  it("an indirect table outside guest memory is rejected with kind bufferOutOfBounds", () => {
    const mq = new MockSplitQueue({ memorySize: 0x10000 });
    mq.writeDesc(0, { addr: 0xfff0, len: 32, flags: VIRTQ_DESC_F_INDIRECT });
    rejects(() => walk(mq, 0), "bufferOutOfBounds");
  });

  it("a readable descriptor after a writable one is rejected with kind readableAfterWritable", () => {
    const mq = new MockSplitQueue();
    const head = mq.buildDescChain([
      { addr: mq.allocBuffer(4), len: 4, flags: VIRTQ_DESC_F_WRITE },
      { addr: mq.allocBuffer(4), len: 4 },
    ]);
    rejects(() => walk(mq, head), "readableAfterWritable");
  });

  it("a chain whose lengths sum past 2^32 - 1 is rejected with kind chainLengthOverflow", () => {
    // Two 4 GiB-ish buffers need a guest memory that large; a view that admits any range stands in.
    const mq = new MockSplitQueue();
    const big = { addr: 0, len: 0xffff_0000, writable: false };
    const ram = Object.assign(Object.create(mq.ram) as typeof mq.ram, { contains: () => true });
    assert.throws(
      () => DescriptorChain.fromSegments(ram, 0, [big, big], 4),
      (e: unknown) => e instanceof VirtQueueError && e.kind === "chainLengthOverflow",
    );
  });

  it("INDIRECT without VIRTIO_F_INDIRECT_DESC negotiated is rejected with kind indirectNotNegotiated", () => {
    const mq = new MockSplitQueue();
    const table = mq.writeIndirectTable([{ addr: mq.allocBuffer(4), len: 4 }]);
    const head = mq.buildDescChain([{ ...table, flags: VIRTQ_DESC_F_INDIRECT }]);
    rejects(() => walk(mq, head, false), "indirectNotNegotiated");
  });

  it("INDIRECT together with NEXT is rejected with kind indirectWithNext", () => {
    const mq = new MockSplitQueue();
    const table = mq.writeIndirectTable([{ addr: mq.allocBuffer(4), len: 4 }]);
    mq.writeDesc(0, { ...table, flags: VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, next: 1 });
    mq.writeDesc(1, { addr: mq.allocBuffer(4), len: 4 });
    rejects(() => walk(mq, 0), "indirectWithNext");
  });

  it("an INDIRECT descriptor inside an indirect table is rejected with kind nestedIndirect", () => {
    const mq = new MockSplitQueue();
    const inner = mq.writeIndirectTable([{ addr: mq.allocBuffer(4), len: 4 }]);
    const outer = mq.writeIndirectTable([{ ...inner, flags: VIRTQ_DESC_F_INDIRECT }]);
    const head = mq.buildDescChain([{ ...outer, flags: VIRTQ_DESC_F_INDIRECT }]);
    rejects(() => walk(mq, head), "nestedIndirect");
  });

  it("an indirect table of zero length or not a multiple of 16 is rejected with kind badIndirectTable", () => {
    for (const len of [0, 8, 17]) {
      const mq = new MockSplitQueue();
      mq.writeDesc(0, { addr: mq.allocBuffer(32), len, flags: VIRTQ_DESC_F_INDIRECT });
      rejects(() => walk(mq, 0), "badIndirectTable");
    }
  });

  it("the chain is read once: changing the table after the walk changes nothing", () => {
    const mq = new MockSplitQueue();
    const a = mq.allocBuffer(4, Uint8Array.of(1, 2, 3, 4));
    const head = mq.buildDescChain([{ addr: a, len: 4 }]);
    const chain = walk(mq, head);
    mq.writeDesc(head, { addr: 0, len: 4096 });
    assert.deepEqual(chain.segments, [{ addr: a, len: 4, writable: false }]);
    assert.deepEqual([...chain.reader().readAll()], [1, 2, 3, 4]);
  });

  it("fromSegments applies the same ordering and bounds rules", () => {
    const mq = new MockSplitQueue({ memorySize: 0x10000 });
    assert.throws(
      () =>
        DescriptorChain.fromSegments(
          mq.ram,
          0,
          [
            { addr: 0, len: 4, writable: true },
            { addr: 8, len: 4, writable: false },
          ],
          8,
        ),
      (e: unknown) => e instanceof VirtQueueError && e.kind === "readableAfterWritable",
    );
    assert.throws(
      () =>
        DescriptorChain.fromSegments(mq.ram, 0, [{ addr: 0xfff0, len: 32, writable: false }], 8),
      (e: unknown) => e instanceof VirtQueueError && e.kind === "bufferOutOfBounds",
    );
    assert.throws(
      () => DescriptorChain.fromSegments(mq.ram, 9, [], 8),
      (e: unknown) => e instanceof VirtQueueError && e.kind === "descIndexOutOfBounds",
    );
  });
});
