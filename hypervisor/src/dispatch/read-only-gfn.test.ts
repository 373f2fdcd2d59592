// SPDX-License-Identifier: Apache-2.0
/**
 * gfn 0 (the virtual ACPI "VARG" table) is read-only to its own guest: the guest's WriteMemory
 * and ring registration refuse it and change nothing, its ReadMemory still works, and the
 * toolstack's direct writes still land (docs/virtio-argo.md "Discovery"). Checked on the
 * dispatcher, the one entry point of every guest hypercall; the gRPC framings are covered in
 * grpc/read-only-gfn.test.ts. The property test is bounded by count and prints its seed
 * (replay with HMX_TEST_SEED).
 */
import {
  ARGO_DOMID_ANY,
  Errno,
  MAX_MEMORY_ACCESS,
  PAGE_SIZE,
  VARG_TABLE_GFN,
} from "@hmx/proto/abi";
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { encodeVargTable } from "../devices/varg-table.js";
import type { Domain } from "../domain/domain.js";
import { touchesReadOnlyGfn } from "../memory/read-only-gfns.js";
import {
  at,
  createHarness,
  drain,
  registerRing,
  type Harness,
} from "../test-utils/argo-harness.js";
import { HypercallDispatcher } from "./dispatcher.js";
import type { HypercallResult } from "./hypercall.js";

const TABLE_GPA = VARG_TABLE_GFN * PAGE_SIZE;

function setup(memoryBytes = 4 * 1024 * 1024): {
  h: Harness;
  d: Domain;
  dispatcher: HypercallDispatcher;
} {
  const h = createHarness({ domains: 1, memoryBytes });
  const dispatcher = new HypercallDispatcher(h.argo, pino({ level: "silent" }), {
    maxEntries: 16,
    maxBytes: 1 << 20,
  });
  return { h, d: at(h.doms, 0), dispatcher };
}

/** Writes a table at gfn 0 the way the toolstack does (straight into GuestMemory). */
function toolstackWritesTable(d: Domain, generation: number): Buffer {
  const page = encodeVargTable({ domid: d.domid, generation }, []);
  assert.equal(d.memory.write(TABLE_GPA, page), "ok");
  return page;
}

function ret(result: HypercallResult): number {
  if (result.op === "status")
    throw new Error(`unexpected status ${result.code}: ${result.message}`);
  return result.ret;
}

function gfn0(d: Domain): Buffer {
  const page = d.memory.read(TABLE_GPA, PAGE_SIZE);
  if (page === null) throw new Error("gfn 0 is not readable");
  return page;
}

describe("gfn 0 is read-only to its guest", () => {
  test("touchesReadOnlyGfn is true exactly for a non-empty range with a byte in gfn 0", () => {
    assert.equal(touchesReadOnlyGfn(0, 1), true);
    assert.equal(touchesReadOnlyGfn(PAGE_SIZE - 1, 1), true);
    assert.equal(touchesReadOnlyGfn(PAGE_SIZE - 1, 2), true, "a write straddling gfn 0 and gfn 1");
    assert.equal(touchesReadOnlyGfn(PAGE_SIZE, 1), false, "gfn 1 is the guest's");
    assert.equal(touchesReadOnlyGfn(0, 0), false, "a zero-length write touches no byte");
    assert.equal(touchesReadOnlyGfn(PAGE_SIZE * 3, PAGE_SIZE), false);
  });

  test("WriteMemory into gfn 0 is refused and changes nothing", () => {
    const { h, d, dispatcher } = setup();
    // A fresh domain: no table yet, and the refused write must not even materialise the page.
    const used = h.core.quota.usedBytes;
    assert.equal(
      ret(dispatcher.execute(d, { op: "writeMemory", gpa: 0, data: Buffer.from("forged") })),
      -Errno.EFAULT,
    );
    assert.equal(d.memory.isResident(VARG_TABLE_GFN), false);
    assert.equal(h.core.quota.usedBytes, used);

    const table = toolstackWritesTable(d, 1);
    const cases: [string, number, number][] = [
      ["the first byte", 0, 1],
      ["the last byte", PAGE_SIZE - 1, 1],
      ["the whole page", 0, PAGE_SIZE],
      ["a range from gfn 0 into gfn 1", PAGE_SIZE - 8, 16],
      ["a large range starting at 0", 0, 5 * PAGE_SIZE],
    ];
    for (const [what, gpa, length] of cases) {
      const r = dispatcher.execute(d, { op: "writeMemory", gpa, data: Buffer.alloc(length, 0xee) });
      assert.equal(ret(r), -Errno.EFAULT, what);
      assert.deepEqual(gfn0(d), table, `${what}: gfn 0 unchanged`);
      assert.deepEqual(
        d.memory.read(PAGE_SIZE, 5 * PAGE_SIZE),
        Buffer.alloc(5 * PAGE_SIZE),
        `${what}: nothing written past gfn 0 either`,
      );
    }
    assert.equal(d.counters.errors, cases.length + 1, "each refusal counts as a failed hypercall");
  });

  test("WriteMemory into gfn 1, right after the table, still works", () => {
    const { d, dispatcher } = setup();
    const table = toolstackWritesTable(d, 1);
    assert.equal(
      ret(
        dispatcher.execute(d, {
          op: "writeMemory",
          gpa: PAGE_SIZE,
          data: Buffer.from("agent state"),
        }),
      ),
      0,
    );
    assert.equal(d.memory.read(PAGE_SIZE, 11)?.toString(), "agent state");
    assert.deepEqual(gfn0(d), table);
  });

  test("an oversized WriteMemory at gfn 0 is still -EINVAL (the size check comes first)", () => {
    const { d, dispatcher } = setup();
    const r = dispatcher.execute(d, {
      op: "writeMemory",
      gpa: 0,
      data: Buffer.alloc(MAX_MEMORY_ACCESS + 1),
    });
    assert.equal(ret(r), -Errno.EINVAL);
  });

  test("ReadMemory of gfn 0 works", () => {
    const { d, dispatcher } = setup();
    const table = toolstackWritesTable(d, 7);
    const r = dispatcher.execute(d, { op: "readMemory", gpa: TABLE_GPA, length: PAGE_SIZE });
    if (r.op !== "readMemory") throw new Error(`expected a readMemory result, got ${r.op}`);
    assert.equal(r.ret, 0);
    assert.deepEqual(r.data, table);
  });

  test("a ring whose pages include gfn 0 is refused with -EINVAL and no ring exists afterwards", () => {
    const { h, d, dispatcher } = setup();
    const table = toolstackWritesTable(d, 1);
    // Two pages, gfn 0 second: the check covers every page, not only the header page.
    const r = dispatcher.execute(d, {
      op: "registerRing",
      args: {
        aport: 5,
        partnerId: d.domid,
        len: 2 * PAGE_SIZE - 64,
        gfns: [16, VARG_TABLE_GFN],
        flags: 0,
      },
    });
    assert.equal(ret(r), -Errno.EINVAL);
    assert.equal(h.argo.ringCount(d), 0);
    assert.equal(
      ret(dispatcher.execute(d, { op: "unregisterRing", args: { aport: 5, partnerId: d.domid } })),
      -Errno.ENOENT,
    );
    assert.deepEqual(gfn0(d), table, "no ring header was written into the table");
    assert.equal(d.memory.isResident(16), false, "the other page was not pinned either");
  });

  test("sendv may read gfn 0 as a source iov (a read, as Xen sends from a read-only page)", () => {
    const { h, d, dispatcher } = setup();
    const table = toolstackWritesTable(d, 1);
    const { ret: reg, ring } = registerRing(h, d, {
      aport: 9,
      partnerId: d.domid,
      len: PAGE_SIZE - 64,
    });
    assert.equal(reg, 0);
    const r = dispatcher.execute(d, {
      op: "sendv",
      args: {
        src: { domainId: ARGO_DOMID_ANY, aport: 1 },
        dst: { domainId: d.domid, aport: 9 },
        iovs: [{ gpa: TABLE_GPA, len: 64 }],
        messageType: 0,
      },
    });
    assert.equal(ret(r), 64);
    assert.deepEqual(at(drain(ring), 0).payload, table.subarray(0, 64));
  });

  test("a toolstack write into GuestMemory still lands at gfn 0 after refused guest writes", () => {
    const { d, dispatcher } = setup();
    toolstackWritesTable(d, 1);
    assert.equal(
      ret(dispatcher.execute(d, { op: "writeMemory", gpa: 0, data: Buffer.alloc(PAGE_SIZE) })),
      -Errno.EFAULT,
    );
    const second = toolstackWritesTable(d, 2);
    assert.deepEqual(gfn0(d), second);
  });

  test("random guest writes never change gfn 0, and every write that misses it behaves as before (property)", () => {
    const seed =
      process.env["HMX_TEST_SEED"] === undefined
        ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
        : Number(process.env["HMX_TEST_SEED"]);
    console.log(
      `read-only gfn 0 property: fast-check seed ${seed} (replay with HMX_TEST_SEED=${seed})`,
    );
    const memoryBytes = 16 * PAGE_SIZE;
    const write = fc.record({
      // Mostly near gfn 0 and the end of memory, where the edges are; sometimes anywhere.
      gpa: fc.oneof(
        fc.integer({ min: 0, max: 2 * PAGE_SIZE }),
        fc.integer({ min: memoryBytes - 2 * PAGE_SIZE, max: memoryBytes + PAGE_SIZE }),
        fc.integer({ min: 0, max: 2 ** 40 }),
      ),
      length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 3 * PAGE_SIZE })),
      fill: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(write, { minLength: 1, maxLength: 12 }), (writes) => {
        const { d, dispatcher } = setup(memoryBytes);
        const table = toolstackWritesTable(d, 1);
        for (const w of writes) {
          const inside = w.gpa + w.length <= memoryBytes;
          const expected = inside && !(w.length > 0 && w.gpa < PAGE_SIZE) ? 0 : -Errno.EFAULT;
          const data = Buffer.alloc(w.length, w.fill);
          assert.equal(
            ret(dispatcher.execute(d, { op: "writeMemory", gpa: w.gpa, data })),
            expected,
          );
          if (expected === 0)
            assert.deepEqual(d.memory.read(w.gpa, w.length), data, "an accepted write landed");
          assert.deepEqual(gfn0(d), table);
        }
      }),
      { numRuns: 300, seed },
    );
  });
});
