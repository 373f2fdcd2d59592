// SPDX-License-Identifier: Apache-2.0
/** sendv: every errno branch, validation order, delivery, counters and VIRQs. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ARGO_DOMID_ANY,
  Errno,
  MAX_ARGO_MESSAGE_SIZE,
  MAX_PENDING_PER_RING,
  PAGE_SIZE,
} from "@hmx/proto/abi";

import type { Domain } from "../domain/domain.js";
import {
  at,
  createHarness,
  drain,
  pattern,
  payloadIov,
  readRingBytes,
  registerRing,
  send,
  txPtr,
} from "../test-utils/argo-harness.js";
import type { Harness } from "../test-utils/argo-harness.js";
import { ScriptedMac } from "../test-utils/scripted-mac.js";
import type { Iov, SendvArgs } from "./types.js";

const {
  EINVAL,
  EOPNOTSUPP,
  EACCES,
  EPERM,
  ESRCH,
  ENODEV,
  ECONNREFUSED,
  EMSGSIZE,
  EAGAIN,
  EBUSY,
  EFAULT,
} = Errno;

/** vm1 owns ring (vm1, aport 1, partner vm2) of 256 bytes; vm2 sends. */
function setup(options: Parameters<typeof createHarness>[0] = {}) {
  const h = createHarness({ domains: 3, ...options });
  const a = at(h.doms, 0);
  const b = at(h.doms, 1);
  const c = at(h.doms, 2);
  const { ring } = registerRing(h, a, { aport: 1, partnerId: b.domid, len: 256 });
  return { h, a, b, c, ring };
}

function sendv(h: Harness, from: Domain, patch: Partial<SendvArgs> = {}): number {
  return h.argo.sendv(from, {
    src: { aport: 7, domainId: ARGO_DOMID_ANY },
    dst: { aport: 1, domainId: 1 },
    iovs: [payloadIov(from, pattern(10))],
    messageType: 0,
    ...patch,
  });
}

describe("sendv argument checks", () => {
  test("sendv delivers a message and returns the payload length", () => {
    const { h, b, ring } = setup();
    assert.equal(sendv(h, b), 10);
    const [m] = drain(ring);
    assert.deepEqual(m?.payload, pattern(10));
  });

  test("sendv rejects a message type that does not fit 32 bits with -EINVAL even when Argo is off", () => {
    const h = createHarness({ enabled: false });
    const b = at(h.doms, 1);
    assert.equal(sendv(h, b, { messageType: 2 ** 32 }), -EINVAL);
    assert.equal(sendv(h, b), -EOPNOTSUPP);
  });

  test("sendv returns -EOPNOTSUPP when Argo is disabled", () => {
    const h = createHarness({ enabled: false });
    assert.equal(sendv(h, at(h.doms, 1)), -EOPNOTSUPP);
  });

  test("sendv returns the xsm enable error first", () => {
    const mac = new ScriptedMac();
    const { h, b } = setup({ mac });
    mac.enableRc = () => -EACCES;
    assert.equal(sendv(h, b, { src: { aport: 0, domainId: 3 } }), -EACCES);
  });

  test("sendv rejects more than 8 iovs with -EINVAL", () => {
    const { h, b } = setup();
    const iov = payloadIov(b, pattern(1));
    assert.equal(sendv(h, b, { iovs: new Array<Iov>(9).fill(iov) }), -EINVAL);
  });

  test("sendv accepts exactly 8 iovs and concatenates them in order", () => {
    const { h, b, ring } = setup();
    const iovs = Array.from({ length: 8 }, (_, i) => payloadIov(b, pattern(3, i)));
    assert.equal(sendv(h, b, { iovs }), 24);
    assert.deepEqual(
      at(drain(ring), 0).payload,
      Buffer.concat(Array.from({ length: 8 }, (_, i) => pattern(3, i))),
    );
  });

  test("sendv checks niov before the source domid (-EINVAL, not -EPERM)", () => {
    const { h, b } = setup();
    const iov = payloadIov(b, pattern(1));
    assert.equal(
      sendv(h, b, { iovs: new Array<Iov>(9).fill(iov), src: { aport: 0, domainId: 3 } }),
      -EINVAL,
    );
  });

  test("sendv rejects a source domain id above 0xFFFF (a non-zero pad) with -EINVAL", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { src: { aport: 0, domainId: 0x10000 + b.domid } }), -EINVAL);
  });

  test("sendv rejects a destination domain id above 0xFFFF (a non-zero pad) with -EINVAL", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { dst: { aport: 1, domainId: 0x10001 } }), -EINVAL);
  });

  test("sendv checks pads before the source domid (-EINVAL, not -EPERM)", () => {
    const { h, b } = setup();
    assert.equal(
      sendv(h, b, { src: { aport: 0, domainId: 3 }, dst: { aport: 1, domainId: 0x10001 } }),
      -EINVAL,
    );
  });

  test("sendv rejects a source domid naming another domain with -EPERM", () => {
    const { h, b, c } = setup();
    assert.equal(sendv(h, b, { src: { aport: 0, domainId: c.domid } }), -EPERM);
  });

  test("sendv rejects source domid 0 with -EPERM (only 0x7FF4 means the caller)", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { src: { aport: 0, domainId: 0 } }), -EPERM);
  });

  test("sendv accepts the caller's own domid as the source", () => {
    const { h, b, ring } = setup();
    assert.equal(sendv(h, b, { src: { aport: 0, domainId: b.domid } }), 10);
    assert.equal(at(drain(ring), 0).sourceDomid, b.domid);
  });

  test("sendv copies src.aport into the header without checking it", () => {
    const { h, b, ring } = setup();
    assert.equal(sendv(h, b, { src: { aport: 0xdeadbeef, domainId: ARGO_DOMID_ANY } }), 10);
    assert.equal(at(drain(ring), 0).sourceAport, 0xdeadbeef);
  });

  test("sendv returns -ESRCH when the destination domain does not exist", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { dst: { aport: 1, domainId: 99 } }), -ESRCH);
  });

  test("sendv returns -ESRCH for destination DOMID_ANY", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { dst: { aport: 1, domainId: ARGO_DOMID_ANY } }), -ESRCH);
  });

  test("sendv checks the destination before the sender's Argo state (-ESRCH, not -ENODEV)", () => {
    const { h, b } = setup();
    h.argo.destroyDomain(b);
    assert.equal(sendv(h, b, { dst: { aport: 1, domainId: 99 } }), -ESRCH);
  });

  test("sendv returns the xsm send denial (Flask -EACCES, SILO -EPERM) before the Argo state checks", () => {
    const mac = new ScriptedMac();
    const { h, b } = setup({ mac });
    mac.sendRc = () => -EACCES;
    assert.equal(sendv(h, b), -EACCES);
    mac.sendRc = () => -EPERM;
    h.argo.destroyDomain(b);
    assert.equal(sendv(h, b), -EPERM);
    assert.ok(mac.calls.includes("send 2->1"));
  });

  test("sendv calls the firewall hook right after xsm send, with src.aport as written and dst.aport", () => {
    const mac = new ScriptedMac();
    const { h, b } = setup({ mac });
    mac.calls.length = 0;
    assert.equal(sendv(h, b), 10);
    assert.deepEqual(mac.calls, ["enable 2", "send 2->1", "firewall 2:7->1:1"]);
  });

  test("sendv returns a firewall rejection (viptables -EPERM) before the Argo state checks", () => {
    const mac = new ScriptedMac();
    const { h, b } = setup({ mac });
    mac.firewallRc = () => -EPERM;
    h.argo.destroyDomain(b);
    assert.equal(sendv(h, b), -EPERM);
  });

  test("sendv does not reach the firewall when xsm send denies", () => {
    const mac = new ScriptedMac();
    const { h, b } = setup({ mac });
    mac.sendRc = () => -EACCES;
    assert.equal(sendv(h, b), -EACCES);
    assert.equal(
      mac.calls.some((c) => c.startsWith("firewall")),
      false,
    );
  });

  test("notify never calls the firewall hook (viptables is sendv only)", () => {
    const mac = new ScriptedMac();
    const { h, b } = setup({ mac });
    assert.equal(h.argo.notify(b, [{ ring: { domainId: 1, aport: 1 }, spaceRequired: 0 }]).ret, 0);
    assert.equal(
      mac.calls.some((c) => c.startsWith("firewall")),
      false,
    );
  });

  test("sendv returns -ENODEV when the sender has no Argo state", () => {
    const { h, b } = setup();
    h.argo.destroyDomain(b);
    assert.equal(sendv(h, b), -ENODEV);
  });

  test("sendv returns -ECONNREFUSED when the destination has no Argo state", () => {
    const { h, a, b } = setup();
    h.argo.destroyDomain(a);
    assert.equal(sendv(h, b), -ECONNREFUSED);
  });

  test("sendv returns -ECONNREFUSED when no ring matches", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { dst: { aport: 2, domainId: 1 } }), -ECONNREFUSED);
  });

  test("sendv returns -ECONNREFUSED when the only ring on the port is unicast to another domain", () => {
    const { h, c } = setup();
    assert.equal(sendv(h, c), -ECONNREFUSED);
  });

  test("sendv looks the ring up before validating iov lengths (-ECONNREFUSED, not -EINVAL)", () => {
    const { h, b } = setup();
    assert.equal(
      sendv(h, b, {
        dst: { aport: 2, domainId: 1 },
        iovs: [{ gpa: 0, len: MAX_ARGO_MESSAGE_SIZE + 1 }],
      }),
      -ECONNREFUSED,
    );
  });

  test("sendv rejects an iov longer than MAX_ARGO_MESSAGE_SIZE with -EINVAL", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { iovs: [{ gpa: 0, len: MAX_ARGO_MESSAGE_SIZE + 1 }] }), -EINVAL);
  });

  test("sendv rejects an iov length that is not a u32 with -EINVAL", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { iovs: [{ gpa: 0, len: -1 }] }), -EINVAL);
    assert.equal(sendv(h, b, { iovs: [{ gpa: 0, len: 1.5 }] }), -EINVAL);
  });

  test("sendv rejects iovs totalling more than MAX_ARGO_MESSAGE_SIZE with -EMSGSIZE", () => {
    const { h, b } = setup();
    const half = MAX_ARGO_MESSAGE_SIZE / 2 + 8;
    assert.equal(
      sendv(h, b, {
        iovs: [
          { gpa: 0, len: half },
          { gpa: 0, len: half },
        ],
      }),
      -EMSGSIZE,
    );
  });

  test("sendv checks each iov length before adding it to the total (-EINVAL, not -EMSGSIZE)", () => {
    const { h, b } = setup();
    const iovs = [
      { gpa: 0, len: MAX_ARGO_MESSAGE_SIZE },
      { gpa: 0, len: MAX_ARGO_MESSAGE_SIZE + 1 },
    ];
    assert.equal(sendv(h, b, { iovs }), -EINVAL);
    assert.equal(
      sendv(h, b, {
        iovs: [
          { gpa: 0, len: MAX_ARGO_MESSAGE_SIZE },
          { gpa: 0, len: 1 },
        ],
      }),
      -EMSGSIZE,
    );
  });

  test("sendv returns -EMSGSIZE for a message that can never fit the ring", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { iovs: [payloadIov(b, pattern(256 - 31))] }), -EMSGSIZE);
    assert.equal(sendv(h, b, { iovs: [payloadIov(b, pattern(256 - 32))] }), 256 - 32);
  });
});

describe("sendv guest memory", () => {
  test("sendv returns -EFAULT for an iov outside the sender's memory and publishes nothing", () => {
    const { h, b, ring } = setup();
    const before = readRingBytes(ring, 0, ring.len);
    const iovs = [payloadIov(b, pattern(8)), { gpa: b.memory.sizeBytes - 4, len: 8 }];
    assert.equal(sendv(h, b, { iovs }), -EFAULT);
    assert.equal(txPtr(ring), 0);
    assert.deepEqual(readRingBytes(ring, 0, ring.len), before);
    assert.equal(h.virq.raised.length, 0);
  });

  test("sendv returns -EFAULT for an infinite or negative iov address", () => {
    const { h, b } = setup();
    assert.equal(sendv(h, b, { iovs: [{ gpa: Infinity, len: 1 }] }), -EFAULT);
    assert.equal(sendv(h, b, { iovs: [{ gpa: -1, len: 1 }] }), -EFAULT);
  });

  test("sendv checks for space before the iov addresses (-EAGAIN, not -EFAULT)", () => {
    const { h, a, b } = setup();
    const { ring } = registerRing(h, a, { aport: 9, partnerId: b.domid, len: 48 });
    assert.equal(send(h, b, { domainId: 1, aport: 9 }, pattern(16)), 16);
    assert.equal(
      sendv(h, b, { dst: { aport: 9, domainId: 1 }, iovs: [{ gpa: Infinity, len: 1 }] }),
      -EAGAIN,
    );
    assert.equal(drain(ring).length, 1);
  });

  test("sendv skips zero-length iovs, even at an invalid address", () => {
    const { h, b, ring } = setup();
    const iovs = [{ gpa: Infinity, len: 0 }, payloadIov(b, pattern(5)), { gpa: -5, len: 0 }];
    assert.equal(sendv(h, b, { iovs }), 5);
    assert.deepEqual(at(drain(ring), 0).payload, pattern(5));
  });

  test("sendv with no iovs sends a header-only message and returns 0", () => {
    const { h, b, ring } = setup();
    assert.equal(sendv(h, b, { iovs: [], messageType: 5 }), 0);
    const m = at(drain(ring), 0);
    assert.equal(m.len, 16);
    assert.equal(m.messageType, 5);
    assert.equal(txPtr(ring), 16);
  });

  test("sendv reads unwritten sender memory as zeros", () => {
    const { h, b, ring } = setup();
    assert.equal(sendv(h, b, { iovs: [{ gpa: 100 * PAGE_SIZE, len: 12 }] }), 12);
    assert.deepEqual(at(drain(ring), 0).payload, Buffer.alloc(12));
  });

  test("sendv copies an iov that spans several sender pages", () => {
    const { h, a, b } = setup();
    const { ring } = registerRing(h, a, { aport: 3, partnerId: b.domid, len: 16384 - 64 });
    const data = pattern(10000, 3);
    assert.equal(send(h, b, { domainId: 1, aport: 3 }, data), 10000);
    assert.deepEqual(at(drain(ring), 0).payload, data);
  });
});

describe("sendv full ring and waiters", () => {
  test("sendv returns -EAGAIN when the ring is full and queues a waiter for the sender", () => {
    const { h, a, b } = setup();
    registerRing(h, a, { aport: 9, partnerId: b.domid, len: 48 });
    assert.equal(send(h, b, { domainId: 1, aport: 9 }, pattern(16)), 16);
    assert.equal(send(h, b, { domainId: 1, aport: 9 }, pattern(4)), -EAGAIN);
    const snapshot = h.argo.listRings(a).find((r) => r.aport === 9);
    assert.deepEqual(snapshot?.waiters, [{ domid: b.domid, len: 4 }]);
  });

  test("a repeated -EAGAIN keeps one waiter per domain with len = max(old, new)", () => {
    const { h, a, b } = setup();
    registerRing(h, a, { aport: 9, partnerId: b.domid, len: 48 });
    send(h, b, { domainId: 1, aport: 9 }, pattern(16));
    send(h, b, { domainId: 1, aport: 9 }, pattern(8));
    send(h, b, { domainId: 1, aport: 9 }, pattern(12));
    send(h, b, { domainId: 1, aport: 9 }, pattern(2));
    assert.deepEqual(h.argo.listRings(a).find((r) => r.aport === 9)?.waiters, [
      { domid: b.domid, len: 12 },
    ]);
  });

  test("sendv returns -EBUSY instead of -EAGAIN when 32 other domains already wait on the ring", () => {
    const h = createHarness({ domains: 34, macPermissive: true, memoryBytes: 256 * 1024 });
    const owner = at(h.doms, 0);
    registerRing(h, owner, { aport: 1, partnerId: ARGO_DOMID_ANY, len: 48 });
    assert.equal(send(h, at(h.doms, 1), { domainId: 1, aport: 1 }, pattern(16)), 16);
    for (let i = 1; i <= MAX_PENDING_PER_RING; i++) {
      assert.equal(send(h, at(h.doms, i), { domainId: 1, aport: 1 }, pattern(1)), -EAGAIN);
    }
    assert.equal(send(h, at(h.doms, 33), { domainId: 1, aport: 1 }, pattern(1)), -EBUSY);
    // A domain already waiting still gets -EAGAIN (its entry is updated, not added).
    assert.equal(send(h, at(h.doms, 5), { domainId: 1, aport: 1 }, pattern(9)), -EAGAIN);
  });

  test("full ring: -EAGAIN, then the owner's notify fires the waiter's VIRQ, then the retry succeeds", () => {
    const { h, a, b } = setup();
    const { ring } = registerRing(h, a, { aport: 9, partnerId: b.domid, len: 48 });
    assert.equal(send(h, b, { domainId: 1, aport: 9 }, pattern(16, 1)), 16);
    assert.equal(send(h, b, { domainId: 1, aport: 9 }, pattern(16, 2)), -EAGAIN);
    h.virq.clear();
    assert.equal(drain(ring).length, 1);
    assert.deepEqual(h.argo.notify(a, null), { ret: 0, entries: [] });
    assert.deepEqual(h.virq.raised, [b.domid]);
    assert.equal(send(h, b, { domainId: 1, aport: 9 }, pattern(16, 2)), 16);
    assert.deepEqual(at(drain(ring), 0).payload, pattern(16, 2));
  });
});

describe("sendv delivery", () => {
  test("sendv raises VIRQ_ARGO on the destination after a successful send only", () => {
    const { h, a, b } = setup();
    assert.equal(sendv(h, b), 10);
    assert.deepEqual(h.virq.raised, [a.domid]);
    assert.equal(a.counters.virqs, 1);
    sendv(h, b, { dst: { aport: 2, domainId: 1 } });
    assert.deepEqual(h.virq.raised, [a.domid]);
  });

  test("sendv counts messages and payload bytes on sender and receiver", () => {
    const { h, a, b } = setup();
    sendv(h, b);
    sendv(h, b, { iovs: [payloadIov(b, pattern(20))] });
    sendv(h, b, { dst: { aport: 2, domainId: 1 } });
    assert.equal(b.counters.messagesSent, 2);
    assert.equal(b.counters.bytesSent, 30);
    assert.equal(a.counters.messagesReceived, 2);
    assert.equal(a.counters.bytesReceived, 30);
  });

  test("sendv prefers the unicast ring for its partner over a wildcard ring on the same port", () => {
    const h = createHarness({ domains: 3, macPermissive: true });
    const [a, b, c] = [at(h.doms, 0), at(h.doms, 1), at(h.doms, 2)];
    const uni = registerRing(h, a, { aport: 5, partnerId: b.domid, len: 256 }).ring;
    const any = registerRing(h, a, { aport: 5, partnerId: ARGO_DOMID_ANY, len: 256 }).ring;
    assert.equal(send(h, b, { domainId: 1, aport: 5 }, pattern(4, 1)), 4);
    assert.equal(send(h, c, { domainId: 1, aport: 5 }, pattern(4, 2)), 4);
    assert.deepEqual(
      drain(uni).map((m) => m.sourceDomid),
      [b.domid],
    );
    assert.deepEqual(
      drain(any).map((m) => m.sourceDomid),
      [c.domid],
    );
  });

  test("sendv falls back to the wildcard ring once the unicast ring is unregistered", () => {
    const h = createHarness({ domains: 2, macPermissive: true });
    const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
    registerRing(h, a, { aport: 5, partnerId: b.domid, len: 256 });
    const any = registerRing(h, a, { aport: 5, partnerId: ARGO_DOMID_ANY, len: 256 }).ring;
    h.argo.unregisterRing(a, { aport: 5, partnerId: b.domid });
    assert.equal(send(h, b, { domainId: 1, aport: 5 }, pattern(4)), 4);
    assert.equal(drain(any).length, 1);
  });

  test("a domain can send to its own ring", () => {
    const h = createHarness({ domains: 1 });
    const a = at(h.doms, 0);
    const { ring } = registerRing(h, a, { aport: 1, partnerId: a.domid, len: 256 });
    assert.equal(send(h, a, { domainId: a.domid, aport: 1 }, pattern(9)), 9);
    assert.equal(at(drain(ring), 0).sourceDomid, a.domid);
    assert.deepEqual(h.virq.raised, [a.domid]);
  });
});
