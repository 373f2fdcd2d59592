// SPDX-License-Identifier: Apache-2.0
/**
 * The driver side of a split queue (VirtIO 1.2 §2.7.13 / §2.7.14, Linux virtio_ring.c) against the
 * device side over the same memory: add → kick decision → pop → addUsed → getBuf round trips
 * (fast-check, with and without EVENT_IDX and indirect tables), and the hostile-device cases of
 * virtio-argo.md §4.9 (bad used id, duplicate or bogus completion, oversized len, used.idx jump).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DmaAllocator } from "../memory/dma-allocator.js";
import { InMemoryGuestRam } from "../memory/in-memory-guest-ram.js";
import { propertySeed } from "../test-utils/seed.js";
import { ViolationLog } from "../violation-log.js";
import { readDescriptor } from "./descriptor-chain.js";
import { SplitQueue } from "./split-queue.js";
import { SplitQueueDriver } from "./split-queue-driver.js";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_AVAIL_FLAGS_OFFSET,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_USED_F_NO_NOTIFY,
  VIRTQ_USED_FLAGS_OFFSET,
  VIRTQ_USED_IDX_OFFSET,
  availEventOffset,
  packSplitRing,
  usedEventOffset,
  usedRingEntryOffset,
} from "./split-ring.js";
import { VirtQueueError, type VirtQueueErrorKind } from "./virtqueue-error.js";

const seed = propertySeed("split-queue-driver");

interface Pair {
  ram: InMemoryGuestRam;
  dma: DmaAllocator;
  driver: SplitQueueDriver<string>;
  device: SplitQueue;
  driverViolations: ViolationLog;
  interrupts: number[];
  usedAddr: number;
}

function pair(size = 8, options: { eventIdx?: boolean; indirect?: boolean } = {}): Pair {
  const ram = new InMemoryGuestRam(1 << 20);
  const dma = new DmaAllocator(0x1000, (1 << 20) - 0x1000);
  const layout = packSplitRing(dma.alloc(packSplitRing(0, size).bytes + 16, 16), size);
  const driverViolations = new ViolationLog();
  const driver = new SplitQueueDriver<string>({
    ram,
    index: 0,
    size,
    ...layout,
    eventIdx: options.eventIdx ?? false,
    ...(options.indirect === true ? { indirectAllocator: dma } : {}),
    violations: driverViolations,
  });
  const interrupts: number[] = [];
  const device = SplitQueue.create(
    ram,
    {
      index: 0,
      size,
      maxSize: size,
      ...layout,
      eventIdx: options.eventIdx ?? false,
      indirect: options.indirect ?? false,
    },
    {
      violations: new ViolationLog(),
      interrupt: (q) => interrupts.push(q),
      onBroken: () => undefined,
    },
  );
  return { ram, dma, driver, device, driverViolations, interrupts, usedAddr: layout.usedAddr };
}

function buf(p: Pair, len: number): { addr: number; len: number } {
  return { addr: p.dma.alloc(len, 8), len };
}

function rejectsKind(f: () => unknown, kind: VirtQueueErrorKind): void {
  assert.throws(f, (e: unknown) => e instanceof VirtQueueError && e.kind === kind);
}

describe("split queue, driver side (VirtIO 1.2 §2.7.13, §2.7.14)", () => {
  it("a buffer added by the driver is popped by the device and its completion collected with token and len", () => {
    const p = pair();
    const out = buf(p, 4);
    p.ram.write(out.addr, Uint8Array.of(9, 8, 7, 6));
    const inn = buf(p, 10);
    p.driver.add([out], [inn], "req-1");
    assert.equal(p.driver.kickPrepare(), true);
    const chain = p.device.pop();
    assert.ok(chain);
    assert.deepEqual([...chain.reader().readAll()], [9, 8, 7, 6]);
    chain.writer().write(Uint8Array.of(1, 2, 3));
    p.device.addUsed(chain.head, 3);
    assert.deepEqual(p.driver.getBuf(), { token: "req-1", len: 3 });
    assert.equal(p.driver.getBuf(), undefined);
    assert.deepEqual([...p.ram.read(inn.addr, 3)], [1, 2, 3]);
    assert.equal(p.driver.numFree, 8);
  });

  it("uses one indirect descriptor for a multi-element buffer when indirect descriptors are negotiated", () => {
    const p = pair(8, { indirect: true });
    const elems = [buf(p, 16), buf(p, 512), buf(p, 1)] as const;
    const free = p.dma.freeBytes;
    const head = p.driver.add([elems[0]], [elems[1], elems[2]], "io");
    assert.equal(p.dma.freeBytes, free - 48, "a 3-entry indirect table was allocated");
    assert.equal(p.driver.numFree, 7);
    const d = readDescriptor(p.ram, p.device.config.descAddr, head);
    assert.equal(d.flags, VIRTQ_DESC_F_INDIRECT);
    assert.equal(d.len, 48);
    const chain = p.device.pop();
    assert.deepEqual(
      chain?.segments.map((s) => [s.len, s.writable]),
      [
        [16, false],
        [512, true],
        [1, true],
      ],
    );
    p.device.addUsed(head, 1);
    p.driver.getBuf();
    assert.equal(p.dma.freeBytes, free, "the indirect table was freed on completion");
  });

  it("add fails with kind queueFull when there are not enough free descriptors", () => {
    const p = pair(2);
    p.driver.add([buf(p, 1)], [buf(p, 1)], "a");
    rejectsKind(() => p.driver.add([buf(p, 1)], [], "b"), "queueFull");
  });

  it("kickPrepare honours VIRTQ_USED_F_NO_NOTIFY without EVENT_IDX", () => {
    const p = pair();
    p.ram.writeU16(p.usedAddr + VIRTQ_USED_FLAGS_OFFSET, VIRTQ_USED_F_NO_NOTIFY);
    p.driver.add([buf(p, 1)], [], "a");
    assert.equal(p.driver.kickPrepare(), false);
    p.ram.writeU16(p.usedAddr + VIRTQ_USED_FLAGS_OFFSET, 0);
    p.driver.add([buf(p, 1)], [], "b");
    assert.equal(p.driver.kickPrepare(), true);
    assert.equal(p.driver.kickPrepare(), false, "nothing added since the last kick");
  });

  it("kickPrepare with EVENT_IDX kicks only when avail.idx crosses avail_event", () => {
    const p = pair(8, { eventIdx: true });
    p.ram.writeU16(p.usedAddr + availEventOffset(8), 3);
    p.driver.add([buf(p, 1)], [], "a");
    p.driver.add([buf(p, 1)], [], "b");
    assert.equal(p.driver.kickPrepare(), false, "avail.idx 0 -> 2 does not pass 3");
    p.driver.add([buf(p, 1)], [], "c");
    p.driver.add([buf(p, 1)], [], "d");
    assert.equal(p.driver.kickPrepare(), true, "avail.idx 2 -> 4 passes 3");
  });

  it("disableCb sets VIRTQ_AVAIL_F_NO_INTERRUPT; enableCb clears it and reports pending used buffers", () => {
    const p = pair();
    p.driver.disableCb();
    assert.equal(
      p.ram.readU16(p.device.config.availAddr + VIRTQ_AVAIL_FLAGS_OFFSET),
      VIRTQ_AVAIL_F_NO_INTERRUPT,
    );
    p.driver.add([], [buf(p, 1)], "a");
    const c = p.device.pop();
    assert.ok(c);
    p.device.addUsed(c.head, 0);
    assert.equal(p.driver.enableCb(), false, "a used buffer is already pending");
    assert.equal(p.ram.readU16(p.device.config.availAddr + VIRTQ_AVAIL_FLAGS_OFFSET), 0);
  });

  it("with EVENT_IDX getBuf publishes used_event = last_used so the next completion interrupts", () => {
    const p = pair(8, { eventIdx: true });
    p.driver.add([], [buf(p, 1)], "a");
    const c = p.device.pop();
    assert.ok(c);
    p.device.addUsed(c.head, 1);
    p.device.signalUsed();
    p.driver.getBuf();
    assert.equal(p.ram.readU16(p.device.config.availAddr + usedEventOffset(8)), 1);
    assert.deepEqual(p.interrupts, [0]);
  });

  describe("hostile device (virtio-argo.md §4.9)", () => {
    function forgeUsed(p: Pair, slot: number, id: number, len: number, idx: number): void {
      p.ram.writeU32(p.usedAddr + usedRingEntryOffset(slot), id);
      p.ram.writeU32(p.usedAddr + usedRingEntryOffset(slot) + 4, len);
      p.ram.writeU16(p.usedAddr + VIRTQ_USED_IDX_OFFSET, idx);
    }

    it("a used id at or above the queue size breaks the queue with kind usedIdOutOfRange", () => {
      const p = pair();
      p.driver.add([], [buf(p, 4)], "a");
      forgeUsed(p, 0, 8, 0, 1);
      rejectsKind(() => p.driver.getBuf(), "usedIdOutOfRange");
      assert.equal(p.driverViolations.count("usedIdOutOfRange"), 1);
      rejectsKind(() => p.driver.getBuf(), "queueBroken");
      rejectsKind(() => p.driver.add([buf(p, 1)], [], "b"), "queueBroken");
    });

    it("a used id that is no outstanding head (bogus) breaks the queue with kind usedIdNotOutstanding", () => {
      const p = pair();
      p.driver.add([], [buf(p, 4)], "a");
      forgeUsed(p, 0, 5, 0, 1);
      rejectsKind(() => p.driver.getBuf(), "usedIdNotOutstanding");
    });

    it("a duplicate completion of the same head breaks the queue with kind usedIdNotOutstanding", () => {
      const p = pair();
      const head = p.driver.add([], [buf(p, 4)], "a");
      p.driver.add([], [buf(p, 4)], "b");
      forgeUsed(p, 0, head, 4, 1);
      assert.equal(p.driver.getBuf()?.token, "a");
      forgeUsed(p, 1, head, 4, 2);
      rejectsKind(() => p.driver.getBuf(), "usedIdNotOutstanding");
    });

    it("a used len above the chain's writable bytes breaks the queue with kind usedLenTooLarge", () => {
      const p = pair();
      const head = p.driver.add([buf(p, 100)], [buf(p, 4)], "a");
      forgeUsed(p, 0, head, 5, 1);
      rejectsKind(() => p.driver.getBuf(), "usedLenTooLarge");
    });

    it("used.idx jumping past the outstanding count breaks the queue with kind invalidUsedIdx", () => {
      const p = pair();
      const head = p.driver.add([], [buf(p, 4)], "a");
      forgeUsed(p, 0, head, 0, 40);
      rejectsKind(() => p.driver.getBuf(), "invalidUsedIdx");
    });

    it("detachAll returns every outstanding token after a reset", () => {
      const p = pair();
      p.driver.add([], [buf(p, 4)], "a");
      p.driver.add([], [buf(p, 4)], "b");
      assert.deepEqual(p.driver.detachAll().sort(), ["a", "b"]);
      assert.equal(p.driver.inFlight, 0);
    });
  });

  it("random add / out-of-order completion sequences round-trip every token exactly once (property)", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("add" as const),
        out: fc.integer({ min: 0, max: 3 }),
        inn: fc.integer({ min: 0, max: 3 }),
      }),
      fc.record({
        kind: fc.constant("complete" as const),
        pick: fc.nat(),
        lenFrac: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      fc.constant({ kind: "collect" as const }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 80 }),
        fc.boolean(),
        fc.boolean(),
        (ops, eventIdx, indirect) => {
          const p = pair(8, { eventIdx, indirect });
          const popped: { head: number; writable: number; token: string }[] = [];
          const expected = new Map<string, number>();
          const collected = new Map<string, number>();
          let n = 0;
          const tokenOf = new Map<number, string>();
          const collect = (): void => {
            for (let u = p.driver.getBuf(); u !== undefined; u = p.driver.getBuf()) {
              assert.ok(!collected.has(u.token), "collected twice");
              collected.set(u.token, u.len);
            }
          };
          for (const o of ops) {
            if (o.kind === "add") {
              if (o.out + o.inn === 0) continue;
              const token = `t${n++}`;
              const outs = Array.from({ length: o.out }, () => buf(p, 3));
              const ins = Array.from({ length: o.inn }, () => buf(p, 5));
              try {
                const head = p.driver.add(outs, ins, token);
                tokenOf.set(head, token);
              } catch (e) {
                assert.ok(e instanceof VirtQueueError && e.kind === "queueFull");
                continue;
              }
              p.driver.kickPrepare();
              for (let c = p.device.pop(); c !== undefined; c = p.device.pop()) {
                popped.push({
                  head: c.head,
                  writable: c.writableBytes,
                  token: tokenOf.get(c.head) ?? "?",
                });
              }
            } else if (o.kind === "complete") {
              if (popped.length === 0) continue;
              const [c] = popped.splice(o.pick % popped.length, 1);
              if (c === undefined) continue;
              const len = Math.floor(c.writable * o.lenFrac);
              p.device.addUsed(c.head, len);
              expected.set(c.token, len);
            } else {
              collect();
            }
          }
          for (const c of popped.splice(0)) {
            p.device.addUsed(c.head, c.writable);
            expected.set(c.token, c.writable);
          }
          collect();
          assert.deepEqual(collected, expected);
          assert.equal(p.driver.numFree, 8);
          assert.equal(p.driver.inFlight, 0);
          assert.equal(p.driverViolations.stats.total, 0);
        },
      ),
      { seed, numRuns: 150 },
    );
  });
});
