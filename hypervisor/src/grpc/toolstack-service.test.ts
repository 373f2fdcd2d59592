// SPDX-License-Identifier: Apache-2.0
/**
 * The toolstack's side of per-domain memory accounting, over real gRPC: CreateDomain reserves
 * the domain's whole `memory_bytes` from `--max-total-memory`, a domain that does not fit is
 * RESOURCE_EXHAUSTED with both sizes and the flag in the message and nothing created, and every
 * way a domain goes away (DestroyDomain, a CreateDomain undone because its devices could not be
 * placed) gives its reservation back.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestHypervisor, type TestHypervisor } from "../test-utils/test-hypervisor.js";

const MiB = 1024 * 1024;
const TOTAL = 64 * MiB;

let t: TestHypervisor;
before(async () => {
  t = await startTestHypervisor({ maxTotalMemoryBytes: TOTAL, maxDomainMemoryBytes: TOTAL });
});
after(async () => {
  await t.stop();
});

/** Destroys every domain, so each test starts from an empty total. */
async function destroyAll(): Promise<void> {
  for (const d of await t.toolstack.listDomains()) await t.toolstack.destroyDomain(d.domid);
}

function isExhausted(err: unknown): err is grpc.ServiceError {
  return (err as grpc.ServiceError).code === grpc.status.RESOURCE_EXHAUSTED;
}

describe("CreateDomain memory reservation", () => {
  test("CreateDomain beyond the total is refused with RESOURCE_EXHAUSTED naming the sizes, and creates nothing", async () => {
    await destroyAll();
    await t.toolstack.createDomain({ name: "victim", label: "victim_t", memoryBytes: 16 * MiB });
    await assert.rejects(
      t.toolstack.createDomain({ name: "greedy", label: "greedy_t", memoryBytes: TOTAL }),
      (err: unknown) => {
        assert.ok(isExhausted(err), String(err));
        assert.match(err.details, /cannot reserve 67108864 bytes \(64 MiB\)/);
        assert.match(
          err.details,
          /only 50331648 bytes \(48 MiB\) of the 67108864 bytes \(64 MiB\) total/,
        );
        assert.match(err.details, /--max-total-memory/);
        return true;
      },
    );
    const names = (await t.toolstack.listDomains()).map((d) => d.name);
    assert.deepEqual(names, ["victim"]);
    // What is left can still be had, to the byte.
    await t.toolstack.createDomain({ name: "rest", label: "rest_t", memoryBytes: 48 * MiB });
  });

  test("a domain's memory is reserved at creation: another domain cannot take it", async () => {
    await destroyAll();
    const victim = await t.createGuest("victim", 16 * MiB);
    const attacker = await t.createGuest("attacker", 48 * MiB);
    // The attacker touches every byte it may write (gfn 16 up; 16 MiB per WriteMemory at most).
    for (let gpa = 16 * 4096; gpa < 48 * MiB; gpa += 16 * MiB) {
      const data = Buffer.alloc(Math.min(16 * MiB, 48 * MiB - gpa), 0xee);
      const r = await attacker.call<{ ret: number }>("WriteMemory", { gpa: String(gpa), data });
      assert.equal(r.ret, 0);
    }
    await assert.rejects(
      t.toolstack.createDomain({ name: "late", label: "late_t", memoryBytes: 64 * 1024 }),
      isExhausted,
    );
    // The victim still gets every page it was promised, by a write and by a ring.
    const w = await victim.call<{ ret: number }>("WriteMemory", {
      gpa: String(16 * 4096),
      data: Buffer.alloc(8 * MiB, 1),
    });
    assert.equal(w.ret, 0);
    const gfns = Array.from({ length: 64 }, (_, i) => String(3000 + i));
    const reg = await victim.call<{ ret: number }>("RegisterRing", {
      aport: 1,
      partnerId: attacker.domid,
      len: 64 * 4096 - 64,
      gfns,
      flags: 0,
    });
    assert.equal(reg.ret, 0);
  });

  test("destroying a domain returns its reservation: a domain of the freed size fits again", async () => {
    await destroyAll();
    const a = await t.toolstack.createDomain({ name: "a", label: "a_t", memoryBytes: 32 * MiB });
    await t.toolstack.createDomain({ name: "b", label: "b_t", memoryBytes: 32 * MiB });
    await assert.rejects(
      t.toolstack.createDomain({ name: "c", label: "c_t", memoryBytes: 32 * MiB }),
      isExhausted,
    );
    await t.toolstack.destroyDomain(a.domid);
    await t.toolstack.createDomain({ name: "c", label: "c_t", memoryBytes: 32 * MiB });
  });

  test("a CreateDomain undone because its devices cannot be placed returns its reservation", async () => {
    await destroyAll();
    await assert.rejects(
      t.toolstack.createDomain({
        name: "fe",
        label: "fe_t",
        memoryBytes: TOTAL,
        devices: [{ type: "console", backendDomid: 0x7000 }],
      }),
      (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND,
    );
    await t.toolstack.createDomain({ name: "whole", label: "whole_t", memoryBytes: TOTAL });
  });
});
