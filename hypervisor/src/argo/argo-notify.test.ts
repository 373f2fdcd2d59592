// SPDX-License-Identifier: Apache-2.0
/** notify: errno branches, every flag, the waiter rules of argo-spec §5.4 and the hmx fix. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ARGO_DOMID_ANY,
  ArgoRingFlag,
  Errno,
  MAX_NOTIFY_COUNT,
  MAX_PENDING_PER_RING,
} from "@hmx/proto/abi";

import {
  at,
  createHarness,
  drain,
  pattern,
  registerRing,
  send,
} from "../test-utils/argo-harness.js";
import { ScriptedMac } from "../test-utils/scripted-mac.js";
import type { NotifyEntry } from "./types.js";

const { EXISTS, SHARED, EMPTY, SUFFICIENT, EMSGSIZE, EBUSY } = ArgoRingFlag;

/** vm1 owns a 256-byte ring (aport 1) for vm2 and a 48-byte ring (aport 9) for vm2. */
function setup(options: Parameters<typeof createHarness>[0] = {}) {
  const h = createHarness({ domains: 3, ...options });
  const [a, b, c] = [at(h.doms, 0), at(h.doms, 1), at(h.doms, 2)];
  const big = registerRing(h, a, { aport: 1, partnerId: b.domid, len: 256 }).ring;
  const small = registerRing(h, a, { aport: 9, partnerId: b.domid, len: 48 }).ring;
  return { h, a, b, c, big, small };
}

function ent(domainId: number, aport: number, spaceRequired = 0): NotifyEntry {
  return { ring: { domainId, aport }, spaceRequired };
}

describe("notify errors", () => {
  test("notify returns -EOPNOTSUPP when Argo is disabled", () => {
    const h = createHarness({ enabled: false });
    assert.deepEqual(h.argo.notify(at(h.doms, 0), null), { ret: -Errno.EOPNOTSUPP, entries: [] });
  });

  test("notify returns the xsm enable error", () => {
    const mac = new ScriptedMac();
    const { h, b } = setup({ mac });
    mac.enableRc = () => -Errno.EACCES;
    assert.equal(h.argo.notify(b, null).ret, -Errno.EACCES);
  });

  test("notify returns -ENODEV when the caller has no Argo state", () => {
    const { h, b } = setup();
    h.argo.destroyDomain(b);
    assert.equal(h.argo.notify(b, null).ret, -Errno.ENODEV);
  });

  test("notify with no ring data returns 0", () => {
    const { h, b } = setup();
    assert.deepEqual(h.argo.notify(b, null), { ret: 0, entries: [] });
  });

  test("notify rejects more than 256 entries with -EACCES", () => {
    const { h, b } = setup();
    const entries = new Array<NotifyEntry>(MAX_NOTIFY_COUNT + 1).fill(ent(1, 1));
    assert.deepEqual(h.argo.notify(b, entries), { ret: -Errno.EACCES, entries: [] });
  });

  test("notify accepts exactly 256 entries", () => {
    const { h, b } = setup();
    const r = h.argo.notify(b, new Array<NotifyEntry>(MAX_NOTIFY_COUNT).fill(ent(1, 1)));
    assert.equal(r.ret, 0);
    assert.equal(r.entries.length, MAX_NOTIFY_COUNT);
  });

  test("notify fires pending waiters even when it then fails with -EACCES for too many entries", () => {
    const { h, a, b, small } = setup();
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    drain(small);
    h.virq.clear();
    assert.equal(
      h.argo.notify(a, new Array<NotifyEntry>(MAX_NOTIFY_COUNT + 1).fill(ent(2, 1))).ret,
      -Errno.EACCES,
    );
    assert.deepEqual(h.virq.raised, [b.domid]);
  });

  test("notify stops at an entry whose xsm send check fails and returns that error with the earlier entries", () => {
    const mac = new ScriptedMac();
    const { h, b, c } = setup({ mac });
    mac.sendRc = (_s, owner) => (owner.domid === c.domid ? -Errno.EPERM : 0);
    const r = h.argo.notify(b, [ent(1, 1), ent(c.domid, 1), ent(1, 9)]);
    assert.equal(r.ret, -Errno.EPERM);
    assert.equal(r.entries.length, 1);
    assert.deepEqual(
      mac.calls.filter((x) => x.startsWith("send")),
      ["send 2->1", "send 2->3"],
    );
  });
});

describe("notify entries", () => {
  test("notify reports flags 0 and max_message_size 0 for a domain that does not exist (hmx fix)", () => {
    const { h, b } = setup();
    assert.deepEqual(
      h.argo.notify(b, [{ ring: { domainId: 99, aport: 1 }, spaceRequired: 5 }]).entries,
      [{ flags: 0, maxMessageSize: 0 }],
    );
  });

  test("notify reports flags 0 and max_message_size 0 for a domain id above 0xFFFF", () => {
    const { h, b } = setup();
    assert.deepEqual(h.argo.notify(b, [ent(0x10001, 1)]).entries, [
      { flags: 0, maxMessageSize: 0 },
    ]);
  });

  test("notify reports flags 0 for a domain without Argo state and skips the xsm check", () => {
    const mac = new ScriptedMac();
    const { h, a, b } = setup({ mac });
    h.argo.destroyDomain(a);
    mac.sendRc = () => -Errno.EACCES;
    assert.deepEqual(h.argo.notify(b, [ent(1, 1)]), {
      ret: 0,
      entries: [{ flags: 0, maxMessageSize: 0 }],
    });
  });

  test("notify reports flags 0 and max_message_size 0 for a ring that does not exist", () => {
    const { h, b } = setup();
    assert.deepEqual(h.argo.notify(b, [ent(1, 77)]).entries, [{ flags: 0, maxMessageSize: 0 }]);
  });

  test("notify does not describe a unicast ring to a domain that is not its partner", () => {
    const { h, c } = setup();
    assert.deepEqual(h.argo.notify(c, [ent(1, 1)]).entries, [{ flags: 0, maxMessageSize: 0 }]);
  });

  test("notify reports EXISTS, EMPTY and SUFFICIENT with max_message_size len-32 for an empty ring", () => {
    const { h, b } = setup();
    assert.deepEqual(h.argo.notify(b, [ent(1, 1, 100)]).entries, [
      { flags: EXISTS | EMPTY | SUFFICIENT, maxMessageSize: 224 },
    ]);
  });

  test("notify reports SHARED for a wildcard ring", () => {
    const { h, a, c } = setup({ macPermissive: true });
    registerRing(h, a, { aport: 5, partnerId: ARGO_DOMID_ANY, len: 256 });
    assert.equal(
      at(h.argo.notify(c, [ent(1, 5)]).entries, 0).flags,
      EXISTS | SHARED | EMPTY | SUFFICIENT,
    );
  });

  test("notify reports EMSGSIZE, and queues nothing, when space_required exceeds max_message_size", () => {
    const { h, a, b } = setup();
    assert.deepEqual(h.argo.notify(b, [ent(1, 1, 225)]).entries, [
      { flags: EXISTS | EMPTY | EMSGSIZE, maxMessageSize: 224 },
    ]);
    assert.deepEqual(h.argo.listRings(a).find((r) => r.aport === 1)?.waiters, []);
  });

  test("notify clears EMPTY once the ring holds a message", () => {
    const { h, b } = setup();
    send(h, b, { domainId: 1, aport: 1 }, pattern(10));
    assert.equal(at(h.argo.notify(b, [ent(1, 1, 10)]).entries, 0).flags, EXISTS | SUFFICIENT);
  });

  test("notify with space_required 0 always reports SUFFICIENT", () => {
    const { h, b } = setup();
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    assert.equal(at(h.argo.notify(b, [ent(1, 9, 0)]).entries, 0).flags, EXISTS | SUFFICIENT);
  });

  test("notify queues a waiter when the space is not there, and reports no SUFFICIENT", () => {
    const { h, a, b } = setup();
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    assert.equal(at(h.argo.notify(b, [ent(1, 9, 16)]).entries, 0).flags, EXISTS);
    assert.deepEqual(h.argo.listRings(a).find((r) => r.aport === 9)?.waiters, [
      { domid: b.domid, len: 16 },
    ]);
  });

  test("notify with sufficient space cancels the caller's waiter on that ring", () => {
    const { h, a, b, small } = setup();
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    drain(small);
    assert.equal(
      at(h.argo.notify(b, [ent(1, 9, 16)]).entries, 0).flags,
      EXISTS | EMPTY | SUFFICIENT,
    );
    assert.deepEqual(h.argo.listRings(a).find((r) => r.aport === 9)?.waiters, []);
    h.virq.clear();
    h.argo.notify(a, null);
    assert.deepEqual(h.virq.raised, []);
  });

  test("notify reports the EBUSY flag, not an error, when 32 other domains already wait", () => {
    const h = createHarness({ domains: 34, macPermissive: true, memoryBytes: 256 * 1024 });
    registerRing(h, at(h.doms, 0), { aport: 1, partnerId: ARGO_DOMID_ANY, len: 48 });
    send(h, at(h.doms, 1), { domainId: 1, aport: 1 }, pattern(16));
    for (let i = 1; i <= MAX_PENDING_PER_RING; i++) {
      assert.equal(
        at(h.argo.notify(at(h.doms, i), [ent(1, 1, 16)]).entries, 0).flags,
        EXISTS | SHARED,
      );
    }
    const r = h.argo.notify(at(h.doms, 33), [ent(1, 1, 16), ent(1, 1, 0)]);
    assert.equal(r.ret, 0);
    assert.deepEqual(
      r.entries.map((e) => e.flags),
      [EXISTS | SHARED | EBUSY, EXISTS | SHARED | SUFFICIENT],
    );
  });

  test("notify processes entries in order and reports each", () => {
    const { h, b } = setup();
    const r = h.argo.notify(b, [ent(1, 1, 8), ent(99, 1), ent(1, 9, 17)]);
    assert.deepEqual(r, {
      ret: 0,
      entries: [
        { flags: EXISTS | EMPTY | SUFFICIENT, maxMessageSize: 224 },
        { flags: 0, maxMessageSize: 0 },
        { flags: EXISTS | EMPTY | EMSGSIZE, maxMessageSize: 16 },
      ],
    });
  });

  test("notify rejects a space_required that is not a u32 with -EINVAL", () => {
    const { h, b } = setup();
    assert.equal(h.argo.notify(b, [ent(1, 1, -1)]).ret, -Errno.EINVAL);
  });
});

describe("space waiters", () => {
  test("a waiter fires only when the ring owner calls notify, not when the waiter or a third domain does", () => {
    const { h, a, b, c, small } = setup();
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    drain(small);
    h.virq.clear();
    h.argo.notify(b, null);
    h.argo.notify(c, null);
    assert.deepEqual(h.virq.raised, []);
    h.argo.notify(a, null);
    assert.deepEqual(h.virq.raised, [b.domid]);
  });

  test("a waiter is one-shot: a second owner notify does not fire it again", () => {
    const { h, a, b, small } = setup();
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    drain(small);
    h.virq.clear();
    h.argo.notify(a, null);
    h.argo.notify(a, null);
    assert.deepEqual(h.virq.raised, [b.domid]);
    assert.equal(b.counters.virqs, 1);
  });

  test("a waiter does not fire while its space is still missing", () => {
    const { h, a, b, big } = setup();
    send(h, b, { domainId: 1, aport: 1 }, pattern(100, 1));
    send(h, b, { domainId: 1, aport: 1 }, pattern(100, 2));
    assert.equal(send(h, b, { domainId: 1, aport: 1 }, pattern(100, 3)), -Errno.EAGAIN);
    h.virq.clear();
    h.argo.notify(a, null);
    assert.deepEqual(h.virq.raised, []);
    drain(big);
    h.argo.notify(a, null);
    assert.deepEqual(h.virq.raised, [b.domid]);
  });

  test("the owner's notify wakes every eligible waiter at once", () => {
    const h = createHarness({ domains: 4, macPermissive: true });
    const owner = at(h.doms, 0);
    const { ring } = registerRing(h, owner, { aport: 1, partnerId: ARGO_DOMID_ANY, len: 48 });
    send(h, at(h.doms, 1), { domainId: 1, aport: 1 }, pattern(16));
    for (const i of [1, 2, 3]) send(h, at(h.doms, i), { domainId: 1, aport: 1 }, pattern(16));
    drain(ring);
    h.virq.clear();
    h.argo.notify(owner, null);
    assert.deepEqual([...h.virq.raised].sort(), [2, 3, 4]);
  });

  test("the owner's notify fires waiters queued through the waiter's own notify entries", () => {
    const { h, a, b, small } = setup();
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    h.argo.notify(b, [ent(1, 9, 8)]);
    drain(small);
    h.virq.clear();
    h.argo.notify(a, null);
    assert.deepEqual(h.virq.raised, [b.domid]);
  });
});
