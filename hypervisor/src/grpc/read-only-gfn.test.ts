// SPDX-License-Identifier: Apache-2.0
/**
 * gfn 0 (the virtual ACPI "VARG" device table) over the real gRPC APIs: the guest can read it
 * but neither write it nor put a ring on it, while the toolstack's AttachDevice/DetachDevice
 * keep rewriting it (docs/virtio-argo.md "Discovery"). The batch (Session) case is in
 * session-service.test.ts, next to the other stop_on_error rules.
 */
import {
  Errno,
  PAGE_SIZE,
  VARG_DOMID_OFFSET,
  VARG_ENTRY_COUNT_OFFSET,
  VARG_GENERATION_OFFSET,
  VARG_SIGNATURE,
  VARG_TABLE_GFN,
} from "@hmx/proto/abi";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  startTestHypervisor,
  type TestGuest,
  type TestHypervisor,
} from "../test-utils/test-hypervisor.js";

const TABLE_GPA = String(VARG_TABLE_GFN * PAGE_SIZE);

async function readTable(g: TestGuest): Promise<Buffer> {
  const r = await g.call<{ ret: number; data: Buffer }>("ReadMemory", {
    gpa: TABLE_GPA,
    length: PAGE_SIZE,
  });
  assert.equal(r.ret, 0, "ReadMemory of gfn 0 succeeds");
  return r.data;
}

describe("gfn 0 over gRPC", () => {
  let t: TestHypervisor;
  let fe: TestGuest;
  let be: TestGuest;

  before(async () => {
    t = await startTestHypervisor();
    fe = await t.createGuest("ro-fe");
    be = await t.createGuest("ro-be");
    await t.toolstack.attachDevice(fe.domid, { type: "console", backendDomid: be.domid });
  });
  after(async () => {
    await t.stop();
  });

  test("ReadMemory of gfn 0 works and returns the toolstack's table", async () => {
    const table = await readTable(fe);
    assert.equal(table.toString("latin1", 0, 4), VARG_SIGNATURE);
    assert.equal(table.readUInt16LE(VARG_DOMID_OFFSET), fe.domid);
    assert.equal(table.readUInt16LE(VARG_ENTRY_COUNT_OFFSET), 1);
  });

  test("WriteMemory into gfn 0 is refused with -EFAULT and changes nothing", async () => {
    const before = await readTable(fe);
    for (const [gpa, data] of [
      ["0", Buffer.from("VARG-forged")],
      [String(PAGE_SIZE - 4), Buffer.alloc(8, 0xff)],
      ["0", Buffer.alloc(PAGE_SIZE)],
    ] as const) {
      const r = await fe.call<{ ret: number }>("WriteMemory", { gpa, data });
      assert.equal(r.ret, -Errno.EFAULT, `WriteMemory at gpa ${gpa} of ${data.length} bytes`);
    }
    assert.deepEqual(await readTable(fe), before);
    const gfn1 = await fe.call<{ data: Buffer }>("ReadMemory", {
      gpa: String(PAGE_SIZE),
      length: 4,
    });
    assert.deepEqual(gfn1.data, Buffer.alloc(4), "the straddling write left gfn 1 alone too");
  });

  test("a domain without devices cannot write its gfn 0 either (no window before the first attach)", async () => {
    const lone = await t.createGuest("ro-lone");
    const r = await lone.call<{ ret: number }>("WriteMemory", {
      gpa: "16",
      data: Buffer.from("x"),
    });
    assert.equal(r.ret, -Errno.EFAULT);
    assert.deepEqual(
      await readTable(lone),
      Buffer.alloc(PAGE_SIZE),
      "an all-zero gfn 0 still means no devices",
    );
  });

  test("a ring whose pages include gfn 0 is refused with -EINVAL and no ring exists afterwards", async () => {
    const before = await readTable(fe);
    const reg = await fe.call<{ ret: number }>("RegisterRing", {
      aport: 77,
      partnerId: be.domid,
      len: PAGE_SIZE - 64,
      gfns: [String(VARG_TABLE_GFN)],
      flags: 0,
    });
    assert.equal(reg.ret, -Errno.EINVAL);
    const unreg = await fe.call<{ ret: number }>("UnregisterRing", {
      aport: 77,
      partnerId: be.domid,
    });
    assert.equal(unreg.ret, -Errno.ENOENT, "no ring was left behind");
    assert.deepEqual(await readTable(fe), before, "no ring header was written into the table");
  });

  test("the toolstack still rewrites the table after the guest's writes were refused", async () => {
    const before = await readTable(fe);
    assert.equal(
      (await fe.call<{ ret: number }>("WriteMemory", { gpa: TABLE_GPA, data: Buffer.alloc(64) }))
        .ret,
      -Errno.EFAULT,
    );
    const second = await t.toolstack.attachDevice(fe.domid, {
      type: "console",
      name: "second",
      backendDomid: be.domid,
    });
    const after = await readTable(fe);
    assert.equal(
      after.readUInt32LE(VARG_GENERATION_OFFSET),
      before.readUInt32LE(VARG_GENERATION_OFFSET) + 1,
    );
    assert.equal(after.readUInt16LE(VARG_ENTRY_COUNT_OFFSET), 2);
    await t.toolstack.detachDevice(fe.domid, second.devIndex);
    assert.equal((await readTable(fe)).readUInt16LE(VARG_ENTRY_COUNT_OFFSET), 1);
  });
});
