// SPDX-License-Identifier: Apache-2.0
/**
 * Xen's own Argo test, XTF `tests/argo/main.c` (argo-spec §9), step by step, under the same
 * options as its CI job (`argo=1,mac-permissive=1`).
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ARGO_REGISTER_FLAG_FAIL_EXIST,
  ArgoRingFlag,
  Errno,
  PAGE_SIZE,
  roundUpToSlot,
} from "@hmx/proto/abi";

import {
  allocGfns,
  at,
  createHarness,
  payloadIov,
  readRingBytes,
  rxPtr,
  txPtr,
  writeGuest,
} from "../test-utils/argo-harness.js";
import type { NotifyEntry } from "./types.js";

test("the XTF Argo test passes step by step", () => {
  const h = createHarness({ domains: 1, macPermissive: true });
  const self = at(h.doms, 0);
  const domid = self.domid;
  const notifyEnt: NotifyEntry[] = [{ ring: { domainId: domid, aport: 1 }, spaceRequired: 0 }];

  // 1. Probe: len 1, no gfns, npage 0 → -EINVAL (Argo compiled in and enabled).
  assert.equal(
    h.argo.registerRing(self, { aport: 1, partnerId: domid, len: 1, gfns: [], flags: 0 }),
    -Errno.EINVAL,
  );

  // 2. Notify on a ring that does not exist: rc 0, flags 0; unregistering it: -ENOENT.
  let r = h.argo.notify(self, notifyEnt);
  assert.equal(r.ret, 0);
  assert.equal(at(r.entries, 0).flags, 0);
  assert.equal(h.argo.unregisterRing(self, { aport: 1, partnerId: domid }), -Errno.ENOENT);

  // 3. Register 32 pages, len ROUNDUP16(32*4096 - 80), partner self, FAIL_EXIST.
  const len = roundUpToSlot(32 * 4096 - 80);
  assert.equal(len, 130992);
  const gfns = allocGfns(self, 32);
  const zero = Buffer.alloc(8);
  writeGuest(self, at(gfns, 0) * PAGE_SIZE, zero);
  const regArgs = { aport: 1, partnerId: domid, len, gfns, flags: ARGO_REGISTER_FLAG_FAIL_EXIST };
  assert.equal(h.argo.registerRing(self, regArgs), 0);
  r = h.argo.notify(self, notifyEnt);
  assert.equal(r.ret, 0);
  assert.ok((at(r.entries, 0).flags & ArgoRingFlag.EXISTS) !== 0);
  assert.equal(h.argo.unregisterRing(self, { aport: 1, partnerId: domid }), 0);
  r = h.argo.notify(self, notifyEnt);
  assert.equal(at(r.entries, 0).flags, 0);
  assert.equal(h.argo.unregisterRing(self, { aport: 1, partnerId: domid }), -Errno.ENOENT);

  // 4. Register again and send 23 bytes from (self, 1) to (self, 1).
  assert.equal(h.argo.registerRing(self, regArgs), 0);
  const text = Buffer.from("A simple thing to send\n", "ascii");
  assert.equal(text.length, 23);
  const iov = payloadIov(self, text);
  const sent = h.argo.sendv(self, {
    src: { aport: 1, domainId: domid },
    dst: { aport: 1, domainId: domid },
    iovs: [iov],
    messageType: 0x12345678,
  });
  assert.equal(sent, 23);

  const ring = { owner: self, aport: 1, partnerId: domid, len, gfns };
  assert.equal(rxPtr(ring), 0);
  assert.equal(txPtr(ring), roundUpToSlot(16 + 23));
  assert.equal(txPtr(ring), 48);
  const header = readRingBytes(ring, 0, 16);
  assert.equal(header.readUInt32LE(0), 23 + 16, "hdr.len includes the header");
  assert.equal(header.readUInt32LE(4), 1, "source.aport");
  assert.equal(header.readUInt16LE(8), domid, "source.domain_id");
  assert.equal(header.readUInt16LE(10), 0, "source.pad");
  assert.equal(header.readUInt32LE(12), 0x12345678, "message_type");
  assert.deepEqual(readRingBytes(ring, 16, 23), text);

  r = h.argo.notify(self, notifyEnt);
  assert.ok((at(r.entries, 0).flags & ArgoRingFlag.EXISTS) !== 0);
  assert.equal(h.argo.unregisterRing(self, { aport: 1, partnerId: domid }), 0);
  assert.equal(h.argo.unregisterRing(self, { aport: 1, partnerId: domid }), -Errno.ENOENT);
});
