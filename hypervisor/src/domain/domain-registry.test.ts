// SPDX-License-Identifier: Apache-2.0
/**
 * Tests of domain creation validation, domid allocation, memory reservation, authentication and
 * destruction.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DOMID_MAX, FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";

import type { GuestMemory, GuestWriteResult } from "../memory/guest-memory.js";
import { MemoryQuota, MemoryQuotaExhaustedError } from "../memory/memory-quota.js";
import { DomainConfigError, DomainIdsExhaustedError, DomainRegistry } from "./domain-registry.js";

const MiB = 1024 * 1024;

function registry(): DomainRegistry {
  return new DomainRegistry({ quota: new MemoryQuota(64 * MiB), maxDomainMemoryBytes: 16 * MiB });
}

const ok = { name: "vm-a", label: "system_u:system_r:domU_t", memoryBytes: MiB };

describe("DomainRegistry.create validation", () => {
  const bad: [string, Partial<typeof ok>, string, unknown][] = [
    ["an empty name", { name: "" }, "name", ""],
    ["a name longer than 64 characters", { name: "n".repeat(65) }, "name", "n".repeat(65)],
    ["a name with a space", { name: "vm a" }, "name", "vm a"],
    ["a name with a colon", { name: "vm:a" }, "name", "vm:a"],
    ["an empty label", { label: "" }, "label", ""],
    ["a label with a slash", { label: "a/b" }, "label", "a/b"],
    ["a label longer than 64 characters", { label: "l".repeat(65) }, "label", "l".repeat(65)],
    ["memoryBytes not a multiple of 4096", { memoryBytes: MiB + 1 }, "memoryBytes", MiB + 1],
    ["memoryBytes below 65536", { memoryBytes: 61440 }, "memoryBytes", 61440],
    [
      "memoryBytes above the per-domain maximum",
      { memoryBytes: 32 * MiB },
      "memoryBytes",
      32 * MiB,
    ],
    ["fractional memoryBytes", { memoryBytes: 65536.5 }, "memoryBytes", 65536.5],
    ["infinite memoryBytes", { memoryBytes: Infinity }, "memoryBytes", Infinity],
  ];
  for (const [what, patch, field, value] of bad) {
    test(`create rejects ${what} with a DomainConfigError naming the field and value`, () => {
      const r = registry();
      assert.throws(
        () => r.create({ ...ok, ...patch }),
        (err: unknown) => {
          assert.ok(err instanceof DomainConfigError);
          assert.equal(err.field, field);
          assert.equal(err.value, value);
          assert.ok(err.message.includes(field));
          if (typeof value === "string" && value.length > 0 && value.length <= 80)
            assert.ok(err.message.includes(value));
          if (typeof value === "number") assert.ok(err.message.includes(String(value)));
          return true;
        },
      );
      assert.equal(r.size, 0);
    });
  }

  test("create accepts the boundary values: 64-character name and label, 65536 bytes, the maximum", () => {
    const r = registry();
    r.create({ name: "n".repeat(64), label: "l".repeat(64), memoryBytes: 65536 });
    r.create({ name: "big", label: "x", memoryBytes: 16 * MiB });
    assert.equal(r.size, 2);
  });

  test("create rejects a name already used by a live domain", () => {
    const r = registry();
    r.create(ok);
    assert.throws(
      () => r.create(ok),
      (err: unknown) => err instanceof DomainConfigError && err.field === "name",
    );
  });

  test("a destroyed domain's name can be used again", () => {
    const r = registry();
    const { domain } = r.create(ok);
    r.destroy(domain.domid);
    assert.equal(r.create(ok).domain.name, ok.name);
  });
});

describe("DomainRegistry domids", () => {
  test("domids start at 1 and increase", () => {
    const r = registry();
    assert.equal(r.create({ ...ok, name: "a" }).domain.domid, 1);
    assert.equal(r.create({ ...ok, name: "b" }).domain.domid, 2);
  });

  test("domids are never reused after destruction", () => {
    const r = registry();
    const a = r.create({ ...ok, name: "a" }).domain;
    r.destroy(a.domid);
    const b = r.create({ ...ok, name: "a" }).domain;
    assert.equal(b.domid, 2);
    assert.equal(r.get(1), undefined);
  });

  test("creating more than 0x7FEF domains in one run fails with DomainIdsExhaustedError", () => {
    // Room for every domain that is alive at once (every second one is destroyed).
    const quota = new MemoryQuota(Math.ceil(DOMID_MAX / 2) * 65536);
    const r = new DomainRegistry({ quota, maxDomainMemoryBytes: 65536 });
    for (let i = 1; i <= DOMID_MAX; i++) {
      const { domain } = r.create({ name: `d${i}`, label: "x", memoryBytes: 65536 });
      if (i % 2 === 0) r.destroy(domain.domid);
    }
    assert.throws(
      () => r.create({ name: "last", label: "x", memoryBytes: 65536 }),
      DomainIdsExhaustedError,
    );
  });
});

describe("DomainRegistry memory reservation", () => {
  function quotaAndRegistry(totalBytes: number): { quota: MemoryQuota; r: DomainRegistry } {
    const quota = new MemoryQuota(totalBytes);
    return { quota, r: new DomainRegistry({ quota, maxDomainMemoryBytes: 64 * MiB }) };
  }

  /** Materialises every page a guest may use (gfn 16 up) by writing them all. */
  function touchAll(memory: GuestMemory): GuestWriteResult {
    const from = FIRST_GUEST_GFN * PAGE_SIZE;
    return memory.write(from, Buffer.alloc(memory.sizeBytes - from, 0xa5));
  }

  test("a domain's memory is reserved at creation: another domain cannot take it", () => {
    const { quota, r } = quotaAndRegistry(64 * MiB);
    const victim = r.create({ ...ok, name: "victim", memoryBytes: 16 * MiB }).domain;
    assert.throws(
      () => r.create({ ...ok, name: "attacker", memoryBytes: 64 * MiB }),
      MemoryQuotaExhaustedError,
    );
    const attacker = r.create({ ...ok, name: "attacker", memoryBytes: 48 * MiB }).domain;
    assert.equal(touchAll(attacker.memory), "ok");
    assert.throws(
      () => r.create({ ...ok, name: "late", memoryBytes: 65536 }),
      MemoryQuotaExhaustedError,
    );
    // The victim can still materialise every page it was promised.
    assert.equal(touchAll(victim.memory), "ok");
    const ring = victim.memory.pinPages([FIRST_GUEST_GFN, FIRST_GUEST_GFN + 1]);
    assert.ok(Array.isArray(ring));
    assert.equal(quota.usedBytes, 64 * MiB);
  });

  test("a domain the total cannot hold is refused whole: no domid, no name, no reservation", () => {
    const { quota, r } = quotaAndRegistry(32 * MiB);
    r.create({ ...ok, name: "a", memoryBytes: 24 * MiB });
    assert.throws(
      () => r.create({ ...ok, name: "b", memoryBytes: 16 * MiB }),
      (err: unknown) =>
        err instanceof MemoryQuotaExhaustedError &&
        err.requestedBytes === 16 * MiB &&
        err.availableBytes === 8 * MiB &&
        err.limitBytes === 32 * MiB,
    );
    assert.equal(r.size, 1);
    assert.equal(r.byName("b"), undefined);
    assert.equal(quota.usedBytes, 24 * MiB);
    // The refusal used no domid: the next domain gets 2.
    assert.equal(r.create({ ...ok, name: "b", memoryBytes: 8 * MiB }).domain.domid, 2);
  });

  test("a domain that exactly fills the total is created", () => {
    const { quota, r } = quotaAndRegistry(32 * MiB);
    r.create({ ...ok, name: "a", memoryBytes: 16 * MiB });
    r.create({ ...ok, name: "b", memoryBytes: 16 * MiB });
    assert.equal(quota.availableBytes, 0);
  });

  test("destroying a domain returns its reservation, touched or not, to the next domain", () => {
    const { quota, r } = quotaAndRegistry(32 * MiB);
    const touched = r.create({ ...ok, name: "touched", memoryBytes: 16 * MiB }).domain;
    const idle = r.create({ ...ok, name: "idle", memoryBytes: 16 * MiB }).domain;
    assert.equal(touchAll(touched.memory), "ok");
    assert.throws(
      () => r.create({ ...ok, name: "next", memoryBytes: 32 * MiB }),
      MemoryQuotaExhaustedError,
    );
    r.destroy(touched.domid);
    assert.equal(quota.usedBytes, 16 * MiB);
    r.destroy(idle.domid);
    assert.equal(quota.usedBytes, 0);
    r.create({ ...ok, name: "next", memoryBytes: 32 * MiB });
    assert.equal(quota.usedBytes, 32 * MiB);
  });

  test("a domain whose creation hook fails returns its reservation", () => {
    const { quota, r } = quotaAndRegistry(16 * MiB);
    r.addHooks({
      created: () => {
        throw new Error("init failed");
      },
    });
    assert.throws(() => r.create({ ...ok, memoryBytes: 16 * MiB }), /init failed/);
    assert.equal(quota.usedBytes, 0);
  });
});

describe("DomainRegistry authentication", () => {
  test("authenticate returns the domain for its own credential", () => {
    const r = registry();
    const { domain, credential } = r.create(ok);
    assert.equal(r.authenticate(credential), domain);
  });

  test("authenticate rejects a wrong secret, another domain's secret under this domid, and garbage", () => {
    const r = registry();
    const a = r.create({ ...ok, name: "a" });
    const b = r.create({ ...ok, name: "b" });
    const secretB = b.credential.split(".")[1] ?? "";
    assert.equal(r.authenticate(`${a.domain.domid}.${secretB}`), undefined);
    assert.equal(r.authenticate(`${a.domain.domid}.${"A".repeat(43)}`), undefined);
    assert.equal(r.authenticate("not a credential"), undefined);
    assert.equal(r.authenticate(`999.${secretB}`), undefined);
  });

  test("a destroyed domain's credential stops working", () => {
    const r = registry();
    const { domain, credential } = r.create(ok);
    r.destroy(domain.domid);
    assert.equal(r.authenticate(credential), undefined);
  });
});

describe("DomainRegistry lifecycle", () => {
  test("destroy marks the domain dead, removes it, runs the hooks before releasing memory", () => {
    const quota = new MemoryQuota(64 * MiB);
    const r = new DomainRegistry({ quota, maxDomainMemoryBytes: 16 * MiB });
    const seen: string[] = [];
    r.addHooks({
      created: (d) => seen.push(`created ${d.domid}`),
      destroying: (d) =>
        seen.push(`destroying ${d.domid} alive=${d.alive} resident=${d.memory.residentBytes}`),
    });
    const { domain } = r.create(ok);
    domain.memory.write(0, Buffer.from([1]));
    assert.equal(r.destroy(domain.domid), true);
    assert.deepEqual(seen, ["created 1", "destroying 1 alive=false resident=4096"]);
    assert.equal(quota.usedBytes, 0);
    assert.equal(r.get(domain.domid), undefined);
    assert.equal(r.destroy(domain.domid), false);
  });

  test("list returns the live domains in domid order", () => {
    const r = registry();
    r.create({ ...ok, name: "a" });
    const b = r.create({ ...ok, name: "b" }).domain;
    r.create({ ...ok, name: "c" });
    r.destroy(b.domid);
    assert.deepEqual(
      r.list().map((d) => d.name),
      ["a", "c"],
    );
  });

  test("a created hook that throws leaves no domain behind", () => {
    const r = registry();
    r.addHooks({
      created: () => {
        throw new Error("init failed");
      },
    });
    assert.throws(() => r.create(ok), /init failed/);
    assert.equal(r.size, 0);
  });

  test("a new domain starts alive with zeroed counters", () => {
    const { domain } = registry().create(ok);
    assert.equal(domain.alive, true);
    assert.deepEqual(Object.values(domain.counters), [0, 0, 0, 0, 0, 0, 0]);
    assert.equal(domain.label, ok.label);
  });
});
