// SPDX-License-Identifier: Apache-2.0
/** argo_destroy (argo-spec §5.5) and argo_init, driven through domain destruction and creation. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ARGO_DOMID_ANY, Errno } from "@hmx/proto/abi";

import {
  at,
  createHarness,
  drain,
  pattern,
  registerRing,
  send,
} from "../test-utils/argo-harness.js";
import { ScriptedMac } from "../test-utils/scripted-mac.js";

describe("domain teardown", () => {
  test("destroying a domain removes its rings and a later sendv to it fails with -ESRCH", () => {
    const h = createHarness({ domains: 2 });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    registerRing(h, a, { aport: 1, partnerId: b.domid, len: 256 });
    h.core.domains.destroy(a.domid);
    assert.equal(a.argo, null);
    assert.equal(h.argo.ringCount(a), 0);
    assert.equal(send(h, b, { domainId: a.domid, aport: 1 }, pattern(4)), -Errno.ESRCH);
  });

  test("destroying a domain removes other domains' unicast rings whose partner it was, without signalling", () => {
    const h = createHarness({ domains: 3 });
    const [a, b, c] = [at(h.doms, 0), at(h.doms, 1), at(h.doms, 2)];
    registerRing(h, a, { aport: 1, partnerId: b.domid, len: 256 });
    registerRing(h, a, { aport: 2, partnerId: c.domid, len: 256 });
    registerRing(h, c, { aport: 1, partnerId: b.domid, len: 256 });
    h.virq.clear();
    h.core.domains.destroy(b.domid);
    assert.equal(h.argo.ringCount(a), 1);
    assert.equal(h.argo.ringCount(c), 0);
    assert.deepEqual(h.virq.raised, []);
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: b.domid }), -Errno.ENOENT);
    assert.equal(send(h, c, { domainId: a.domid, aport: 2 }, pattern(4)), 4);
  });

  test("registering a ring towards a destroyed partner fails with -ESRCH (its domid is gone for good)", () => {
    const h = createHarness({ domains: 3 });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    registerRing(h, a, { aport: 1, partnerId: b.domid, len: 256 });
    h.core.domains.destroy(b.domid);
    assert.equal(registerRing(h, a, { aport: 1, partnerId: b.domid, len: 256 }).ret, -Errno.ESRCH);
  });

  test("destroying a domain drops the waiters on its rings", () => {
    const h = createHarness({ domains: 2 });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    registerRing(h, a, { aport: 1, partnerId: b.domid, len: 48 });
    send(h, b, { domainId: 1, aport: 1 }, pattern(16));
    assert.equal(send(h, b, { domainId: 1, aport: 1 }, pattern(16)), -Errno.EAGAIN);
    h.virq.clear();
    h.core.domains.destroy(a.domid);
    assert.deepEqual(h.virq.raised, []);
  });

  test("destroying a domain cancels its waiters on other domains' wildcard rings (hmx: correct cleanup)", () => {
    const h = createHarness({ domains: 3, macPermissive: true });
    const [a, b, c] = [at(h.doms, 0), at(h.doms, 1), at(h.doms, 2)];
    const { ring } = registerRing(h, a, { aport: 1, partnerId: ARGO_DOMID_ANY, len: 48 });
    send(h, c, { domainId: 1, aport: 1 }, pattern(16));
    assert.equal(send(h, b, { domainId: 1, aport: 1 }, pattern(8)), -Errno.EAGAIN);
    assert.equal(send(h, c, { domainId: 1, aport: 1 }, pattern(8)), -Errno.EAGAIN);
    h.core.domains.destroy(b.domid);
    assert.deepEqual(h.argo.listRings(a)[0]?.waiters, [{ domid: c.domid, len: 8 }]);
    drain(ring);
    h.virq.clear();
    h.argo.notify(a, null);
    assert.deepEqual(h.virq.raised, [c.domid]);
  });

  test("a wildcard ring's waiters are unlinked from the waiters' lists when the ring goes away", () => {
    const h = createHarness({ domains: 2, macPermissive: true });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    registerRing(h, a, { aport: 1, partnerId: ARGO_DOMID_ANY, len: 48 });
    send(h, b, { domainId: 1, aport: 1 }, pattern(16));
    send(h, b, { domainId: 1, aport: 1 }, pattern(16));
    assert.equal(b.argo?.wildcardPending.size, 1);
    h.argo.unregisterRing(a, { aport: 1, partnerId: ARGO_DOMID_ANY });
    assert.equal(b.argo.wildcardPending.size, 0);
  });

  test("a firing waiter on a wildcard ring is unlinked from the waiter's list", () => {
    const h = createHarness({ domains: 2, macPermissive: true });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    const { ring } = registerRing(h, a, { aport: 1, partnerId: ARGO_DOMID_ANY, len: 48 });
    send(h, b, { domainId: 1, aport: 1 }, pattern(16));
    send(h, b, { domainId: 1, aport: 1 }, pattern(16));
    drain(ring);
    h.argo.notify(a, null);
    assert.equal(b.argo?.wildcardPending.size, 0);
  });

  test("destroying a domain releases its memory back to the quota after teardown", () => {
    const h = createHarness({ domains: 2 });
    const a = at(h.doms, 0);
    registerRing(h, a, { aport: 1, partnerId: a.domid, len: 8192 - 64 });
    assert.ok(h.core.quota.usedBytes > 0);
    h.core.domains.destroy(a.domid);
    h.core.domains.destroy(at(h.doms, 1).domid);
    assert.equal(h.core.quota.usedBytes, 0);
  });

  test("argo teardown is idempotent", () => {
    const h = createHarness({ domains: 2 });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    registerRing(h, a, { aport: 1, partnerId: b.domid, len: 256 });
    h.argo.destroyDomain(a);
    h.argo.destroyDomain(a);
    assert.equal(a.argo, null);
    assert.equal(send(h, b, { domainId: a.domid, aport: 1 }, pattern(4)), -Errno.ECONNREFUSED);
  });

  test("a self-partnered ring is removed exactly once when its owner dies", () => {
    const h = createHarness({ domains: 1 });
    const a = at(h.doms, 0);
    registerRing(h, a, { aport: 1, partnerId: a.domid, len: 256 });
    const state = a.argo;
    h.core.domains.destroy(a.domid);
    assert.equal(state?.rings.size, 0);
    assert.equal(state.partnerRings.size, 0);
  });
});

describe("argo_init", () => {
  test("a new domain gets Argo state when Argo is enabled", () => {
    const h = createHarness({ domains: 1 });
    assert.notEqual(at(h.doms, 0).argo, null);
  });

  test("no domain gets Argo state when Argo is disabled, and every op is -EOPNOTSUPP", () => {
    const h = createHarness({ domains: 2, enabled: false });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    assert.equal(a.argo, null);
    assert.equal(
      h.argo.registerRing(a, { aport: 1, partnerId: 2, len: 4032, gfns: [16], flags: 0 }),
      -Errno.EOPNOTSUPP,
    );
    assert.equal(h.argo.unregisterRing(a, { aport: 1, partnerId: 2 }), -Errno.EOPNOTSUPP);
    assert.equal(send(h, b, { domainId: 1, aport: 1 }, pattern(1)), -Errno.EOPNOTSUPP);
    assert.equal(h.argo.notify(a, null).ret, -Errno.EOPNOTSUPP);
  });

  test("a domain whose xsm enable check fails at creation gets no Argo state: -ENODEV itself, -ECONNREFUSED for peers", () => {
    const mac = new ScriptedMac();
    mac.enableRc = (d) => (d.name === "vm1" ? -Errno.EACCES : 0);
    const h = createHarness({ domains: 2, mac });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    assert.equal(a.argo, null);
    mac.enableRc = () => 0;
    assert.equal(h.argo.notify(a, null).ret, -Errno.ENODEV);
    assert.equal(
      registerRing(h, b, { aport: 1, partnerId: a.domid, len: 256 }).ret,
      -Errno.ECONNREFUSED,
    );
    assert.equal(send(h, b, { domainId: a.domid, aport: 1 }, pattern(1)), -Errno.ECONNREFUSED);
  });
});
