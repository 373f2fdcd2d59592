// SPDX-License-Identifier: Apache-2.0
/** register_ring and unregister_ring: every errno branch, validation order and the hmx fixes. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ARGO_DOMID_ANY,
  ARGO_MAX_REGISTERABLE_RING_LEN,
  ARGO_REGISTER_FLAG_FAIL_EXIST,
  Errno,
  MAX_RINGS_PER_DOMAIN,
  PAGE_SIZE,
  npagesRing,
} from "@hmx/proto/abi";

import {
  allocGfns,
  at,
  createHarness,
  drain,
  pattern,
  registerRing,
  send,
  setGuestTxPtr,
  setRxPtr,
  txPtr,
  writeGuest,
} from "../test-utils/argo-harness.js";
import { ScriptedMac } from "../test-utils/scripted-mac.js";

const { EINVAL, EOPNOTSUPP, EACCES, EPERM, ESRCH, ENODEV, ECONNREFUSED, ENOSPC, EEXIST, ENOENT } =
  Errno;

/** Two domains; vm1 registers towards vm2 by default. */
function setup(options: Parameters<typeof createHarness>[0] = {}) {
  const h = createHarness(options);
  return { h, a: at(h.doms, 0), b: at(h.doms, 1) };
}

function reg(
  h: ReturnType<typeof createHarness>,
  caller: ReturnType<typeof createHarness>["doms"][number],
  args: Partial<{ aport: number; partnerId: number; len: number; gfns: number[]; flags: number }>,
): number {
  const len = args.len ?? 4096 - 64;
  return h.argo.registerRing(caller, {
    aport: args.aport ?? 1,
    partnerId: args.partnerId ?? 2,
    len,
    gfns: args.gfns ?? [16],
    flags: args.flags ?? 0,
  });
}

describe("register_ring argument checks", () => {
  test("register_ring registers a valid unicast ring and returns 0", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, {}), 0);
    assert.equal(h.argo.ringCount(a), 1);
  });

  test("register_ring rejects flags that do not fit 32 bits with -EINVAL even when Argo is off", () => {
    const { h, a } = setup({ enabled: false });
    assert.equal(reg(h, a, { flags: 2 ** 32 }), -EINVAL);
    assert.equal(reg(h, a, {}), -EOPNOTSUPP);
  });

  test("register_ring returns -EOPNOTSUPP when Argo is disabled", () => {
    const { h, a } = setup({ enabled: false });
    assert.equal(reg(h, a, {}), -EOPNOTSUPP);
  });

  test("register_ring returns the xsm enable error before checking any argument", () => {
    const mac = new ScriptedMac();
    const { h, a } = setup({ mac });
    mac.enableRc = () => -EACCES;
    assert.equal(reg(h, a, { len: 1, gfns: [] }), -EACCES);
  });

  test("register_ring rejects more than 4096 gfns with -EINVAL", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { len: 0x1000000, gfns: new Array<number>(4097).fill(16) }), -EINVAL);
  });

  test("register_ring rejects undefined flag bits with -EINVAL", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { flags: 2 }), -EINVAL);
    assert.equal(reg(h, a, { flags: 0x80000000 }), -EINVAL);
    assert.equal(h.argo.ringCount(a), 0);
  });

  test("register_ring checks flags before the wildcard permission (-EINVAL, not -EPERM)", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { flags: 4, partnerId: ARGO_DOMID_ANY }), -EINVAL);
  });

  const lens: [string, number, number][] = [
    ["len below the 48-byte minimum", 32, 1],
    ["len not a multiple of 16", 56, 1],
    ["len above 0x1000000", 0x1000010, 4097],
    ["len 0x1000000, which needs 4097 pages", 0x1000000, 4096],
    ["a gfn count that differs from NPAGES_RING(len)", 48, 2],
    ["the XTF probe (len 1, no gfns)", 1, 0],
    ["a fractional len", 48.5, 1],
  ];
  for (const [what, len, npage] of lens) {
    test(`register_ring rejects ${what} with -EINVAL`, () => {
      const { h, a } = setup();
      assert.equal(reg(h, a, { len, gfns: new Array<number>(npage).fill(16) }), -EINVAL);
    });
  }

  test("register_ring rejects a partner id above 0xFFFF (a non-zero pad) with -EINVAL", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { partnerId: 0x10002 }), -EINVAL);
  });

  test("register_ring rejects an aport that is not a u32 with -EINVAL", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { aport: 2 ** 32 }), -EINVAL);
  });

  test("register_ring checks len before the partner's existence (-EINVAL, not -ESRCH)", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { len: 50, partnerId: 99 }), -EINVAL);
  });

  test("register_ring accepts the largest registrable ring, 0xFFFFC0 bytes in 4096 pages", () => {
    const { h, a } = setup({ memoryBytes: 20 * 1024 * 1024 });
    assert.equal(npagesRing(ARGO_MAX_REGISTERABLE_RING_LEN), 4096);
    const { ret } = registerRing(h, a, {
      aport: 1,
      partnerId: 2,
      len: ARGO_MAX_REGISTERABLE_RING_LEN,
    });
    assert.equal(ret, 0);
  });
});

describe("register_ring partner and permission checks", () => {
  test("register_ring refuses a wildcard ring with -EPERM when mac-permissive is off", () => {
    const mac = new ScriptedMac();
    const { h, a } = setup({ mac });
    assert.equal(reg(h, a, { partnerId: ARGO_DOMID_ANY }), -EPERM);
    assert.equal(mac.calls.includes("any 1"), false);
  });

  test("register_ring accepts a wildcard ring when mac-permissive is on and xsm allows it", () => {
    const mac = new ScriptedMac();
    const { h, a } = setup({ mac, macPermissive: true });
    assert.equal(reg(h, a, { partnerId: ARGO_DOMID_ANY }), 0);
    assert.deepEqual(mac.calls, ["enable 1", "enable 2", "enable 1", "any 1"]);
  });

  test("register_ring returns the xsm register_any_source denial for a wildcard ring", () => {
    const mac = new ScriptedMac();
    const { h, a } = setup({ mac, macPermissive: true });
    mac.anyRc = () => -EACCES;
    assert.equal(reg(h, a, { partnerId: ARGO_DOMID_ANY }), -EACCES);
  });

  test("register_ring returns -ESRCH when the partner domain does not exist", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { partnerId: 99 }), -ESRCH);
    assert.equal(reg(h, a, { partnerId: 0 }), -ESRCH);
  });

  test("register_ring returns the xsm register_single_source denial (Flask -EACCES, SILO -EPERM)", () => {
    const mac = new ScriptedMac();
    const { h, a } = setup({ mac });
    mac.singleRc = () => -EACCES;
    assert.equal(reg(h, a, {}), -EACCES);
    mac.singleRc = () => -EPERM;
    assert.equal(reg(h, a, {}), -EPERM);
    assert.ok(mac.calls.includes("single 1->2"));
  });

  test("register_ring returns -ENODEV when the caller has no Argo state", () => {
    const { h, a } = setup();
    h.argo.destroyDomain(a);
    assert.equal(reg(h, a, {}), -ENODEV);
  });

  test("register_ring checks the partner's existence before the caller's Argo state (-ESRCH, not -ENODEV)", () => {
    const { h, a } = setup();
    h.argo.destroyDomain(a);
    assert.equal(reg(h, a, { partnerId: 99 }), -ESRCH);
  });

  test("register_ring returns -ECONNREFUSED when the partner has no Argo state", () => {
    const { h, a, b } = setup();
    h.argo.destroyDomain(b);
    assert.equal(reg(h, a, {}), -ECONNREFUSED);
  });

  test("register_ring allows a ring whose partner is the caller itself", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { partnerId: a.domid }), 0);
  });
});

describe("register_ring ring table", () => {
  test("register_ring refuses a 129th ring with -ENOSPC", () => {
    const { h, a } = setup({ memoryBytes: 2 * 1024 * 1024 });
    for (let port = 1; port <= MAX_RINGS_PER_DOMAIN; port++) {
      assert.equal(reg(h, a, { aport: port, gfns: [16 + port] }), 0);
    }
    assert.equal(reg(h, a, { aport: 1000, gfns: [300] }), -ENOSPC);
    assert.equal(h.argo.ringCount(a), MAX_RINGS_PER_DOMAIN);
  });

  test("register_ring re-registers an existing ring at the 128-ring cap (hmx fix: ENOSPC only for a new ring)", () => {
    const { h, a } = setup({ memoryBytes: 2 * 1024 * 1024 });
    for (let port = 1; port <= MAX_RINGS_PER_DOMAIN; port++)
      reg(h, a, { aport: port, gfns: [16 + port] });
    assert.equal(reg(h, a, { aport: 5, gfns: [400] }), 0);
    assert.equal(h.argo.ringCount(a), MAX_RINGS_PER_DOMAIN);
  });

  test("register_ring counts a re-registered ring once (hmx fix)", () => {
    const { h, a } = setup();
    reg(h, a, {});
    reg(h, a, {});
    reg(h, a, { gfns: [17] });
    assert.equal(h.argo.ringCount(a), 1);
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), 0);
    assert.equal(h.argo.ringCount(a), 0);
  });

  test("register_ring returns -EEXIST for an existing ring when FAIL_EXIST is set", () => {
    const { h, a } = setup();
    reg(h, a, {});
    assert.equal(reg(h, a, { flags: ARGO_REGISTER_FLAG_FAIL_EXIST }), -EEXIST);
  });

  test("register_ring returns -EEXIST when re-registering with a different len", () => {
    const { h, a } = setup();
    reg(h, a, { len: 4096 - 64 });
    assert.equal(reg(h, a, { len: 2048 }), -EEXIST);
  });

  test("register_ring treats the same aport with another partner as a different ring", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { partnerId: 2, flags: ARGO_REGISTER_FLAG_FAIL_EXIST }), 0);
    assert.equal(reg(h, a, { partnerId: 1, flags: ARGO_REGISTER_FLAG_FAIL_EXIST, gfns: [17] }), 0);
    assert.equal(h.argo.ringCount(a), 2);
  });
});

describe("register_ring pages", () => {
  test("register_ring rejects a gfn outside the caller's memory with -EINVAL", () => {
    const { h, a } = setup({ memoryBytes: 65536 * 4 });
    assert.equal(reg(h, a, { gfns: [64] }), -EINVAL);
    assert.equal(reg(h, a, { gfns: [2 ** 60] }), -EINVAL);
    assert.equal(reg(h, a, { gfns: [Infinity] }), -EINVAL);
  });

  test("register_ring rejects a platform-reserved gfn below 16 with -EINVAL", () => {
    const { h, a } = setup();
    assert.equal(reg(h, a, { gfns: [15] }), -EINVAL);
    assert.equal(reg(h, a, { gfns: [0] }), -EINVAL);
  });

  test("register_ring never returns -ENOMEM: a domain's pages are reserved at creation, so another domain holding the rest of the total cannot stop it", () => {
    // Two 4 MiB domains fill an 8 MiB total; the second touches every page it has.
    const h = createHarness({ maxTotalMemoryBytes: 8 * 1024 * 1024 });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    writeGuest(b, 0, Buffer.alloc(b.memory.sizeBytes, 0xee));
    assert.equal(h.core.quota.availableBytes, 0);
    const gfns = Array.from({ length: 64 }, (_, i) => 16 + i);
    assert.equal(
      h.argo.registerRing(a, { aport: 1, partnerId: 2, len: 64 * PAGE_SIZE - 64, gfns, flags: 0 }),
      0,
    );
    assert.equal(a.memory.residentBytes, 64 * PAGE_SIZE);
  });

  test("a failed re-registration leaves the existing ring intact (hmx fix)", () => {
    const { h, a, b } = setup();
    const { ring } = registerRing(h, a, { aport: 1, partnerId: 2, len: 256 });
    assert.equal(
      h.argo.registerRing(a, { aport: 1, partnerId: 2, len: 256, gfns: [9], flags: 0 }),
      -EINVAL,
    );
    assert.equal(h.argo.ringCount(a), 1);
    assert.equal(send(h, b, { domainId: 1, aport: 1 }, pattern(10)), 10);
    assert.deepEqual(at(drain(ring), 0).payload, pattern(10));
  });
});

describe("register_ring tx_ptr initialisation", () => {
  test("register_ring keeps a valid tx_ptr found in the ring header", () => {
    const { h, a } = setup();
    const { ring } = registerRing(h, a, { aport: 1, partnerId: 2, len: 256, rxPtr: 64, txPtr: 64 });
    assert.equal(txPtr(ring), 64);
  });

  test("register_ring replaces an unaligned tx_ptr with ROUNDUP16(rx_ptr) and writes it back", () => {
    const { h, a } = setup();
    const { ring } = registerRing(h, a, { aport: 1, partnerId: 2, len: 256, rxPtr: 33, txPtr: 8 });
    assert.equal(txPtr(ring), 48);
  });

  test("register_ring replaces a tx_ptr >= len, and uses 0 when ROUNDUP16(rx_ptr) >= len", () => {
    const { h, a } = setup();
    const { ring } = registerRing(h, a, {
      aport: 1,
      partnerId: 2,
      len: 256,
      rxPtr: 250,
      txPtr: 256,
    });
    assert.equal(txPtr(ring), 0);
  });

  test("re-registration keeps tx_ptr and the messages not yet read (resume)", () => {
    const { h, a, b } = setup();
    const { ring } = registerRing(h, a, { aport: 1, partnerId: 2, len: 512 });
    send(h, b, { domainId: 1, aport: 1 }, pattern(20, 1));
    const tx = txPtr(ring);
    assert.equal(
      h.argo.registerRing(a, { aport: 1, partnerId: 2, len: 512, gfns: ring.gfns, flags: 0 }),
      0,
    );
    assert.equal(txPtr(ring), tx);
    send(h, b, { domainId: 1, aport: 1 }, pattern(30, 2));
    const msgs = drain(ring);
    assert.deepEqual(
      msgs.map((m) => m.payload),
      [pattern(20, 1), pattern(30, 2)],
    );
  });

  test("re-registration onto new pages takes tx_ptr from the new header", () => {
    const { h, a } = setup();
    registerRing(h, a, { aport: 1, partnerId: 2, len: 256 });
    const gfns = allocGfns(a, 1);
    const fresh = { owner: a, aport: 1, partnerId: 2, len: 256, gfns };
    setRxPtr(fresh, 96);
    setGuestTxPtr(fresh, 7);
    assert.equal(h.argo.registerRing(a, { aport: 1, partnerId: 2, len: 256, gfns, flags: 0 }), 0);
    assert.equal(txPtr(fresh), 96);
  });
});

describe("unregister_ring", () => {
  test("unregister_ring removes the ring and returns 0", () => {
    const { h, a } = setup();
    reg(h, a, {});
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), 0);
    assert.equal(h.argo.ringCount(a), 0);
  });

  test("unregister_ring returns -EOPNOTSUPP when Argo is disabled", () => {
    const { h, a } = setup({ enabled: false });
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), -EOPNOTSUPP);
  });

  test("unregister_ring returns the xsm enable error", () => {
    const mac = new ScriptedMac();
    const { h, a } = setup({ mac });
    mac.enableRc = () => -EACCES;
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), -EACCES);
  });

  test("unregister_ring rejects a partner id above 0xFFFF (a non-zero pad) with -EINVAL", () => {
    const { h, a } = setup();
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 0x10002 }), -EINVAL);
  });

  test("unregister_ring checks the pad before the caller's Argo state (-EINVAL, not -ENODEV)", () => {
    const { h, a } = setup();
    h.argo.destroyDomain(a);
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 0x10002 }), -EINVAL);
  });

  test("unregister_ring returns -ENODEV when the caller has no Argo state", () => {
    const { h, a } = setup();
    h.argo.destroyDomain(a);
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), -ENODEV);
  });

  test("unregister_ring returns -ENOENT for a ring that does not exist", () => {
    const { h, a } = setup();
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), -ENOENT);
  });

  test("unregister_ring matches the partner exactly: a wildcard ring needs DOMID_ANY", () => {
    const { h, a } = setup({ macPermissive: true });
    reg(h, a, { partnerId: ARGO_DOMID_ANY });
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), -ENOENT);
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: ARGO_DOMID_ANY }), 0);
  });

  test("unregister_ring drops the ring's waiters without signalling anyone", () => {
    const { h, a, b } = setup();
    registerRing(h, a, { aport: 1, partnerId: 2, len: 48 });
    assert.equal(send(h, b, { domainId: 1, aport: 1 }, pattern(16)), 16);
    assert.equal(send(h, b, { domainId: 1, aport: 1 }, pattern(16)), -Errno.EAGAIN);
    h.virq.clear();
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), 0);
    assert.deepEqual(h.argo.notify(a, null), { ret: 0, entries: [] });
    assert.deepEqual(h.virq.raised, []);
  });

  test("a ring can be registered again after unregistering it", () => {
    const { h, a } = setup();
    reg(h, a, { flags: ARGO_REGISTER_FLAG_FAIL_EXIST });
    h.argo.unregisterRing(a, { aport: 1, partnerId: 2 });
    assert.equal(reg(h, a, { flags: ARGO_REGISTER_FLAG_FAIL_EXIST }), 0);
  });
});
