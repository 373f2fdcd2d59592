// SPDX-License-Identifier: Apache-2.0
/** Ring arithmetic edges (argo-spec §4): wrap, padding, the free slot, sizes and sanitised rx_ptr. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ARGO_DOMID_ANY,
  ARGO_MAX_REGISTERABLE_RING_LEN,
  Errno,
  maxMessageSize,
} from "@hmx/proto/abi";

import {
  at,
  createHarness,
  drain,
  fillRing,
  pattern,
  payloadIov,
  readMessage,
  readRingBytes,
  registerRing,
  rxPtr,
  send,
  setGuestTxPtr,
  setRxPtr,
  txPtr,
} from "../test-utils/argo-harness.js";
import { sanitizeRxPtr } from "./ring-buffer.js";

/** vm1 owns a ring of `len` for vm2, optionally starting with both pointers at `start`. */
function ringOf(len: number, start = 0, memoryBytes?: number) {
  const h = createHarness({ domains: 2, ...(memoryBytes === undefined ? {} : { memoryBytes }) });
  const [a, b] = [at(h.doms, 0), at(h.doms, 1)];
  const { ret, ring } = registerRing(h, a, {
    aport: 1,
    partnerId: b.domid,
    len,
    rxPtr: start,
    txPtr: start,
  });
  assert.equal(ret, 0);
  const sendB = (data: Uint8Array, messageType = 0) =>
    send(h, b, { domainId: a.domid, aport: 1 }, data, { messageType });
  return { h, a, b, ring, sendB };
}

describe("ring wrap-around", () => {
  test("a header written in the last slot is followed by a payload that wraps to offset 0", () => {
    const { ring, sendB } = ringOf(256, 240);
    assert.equal(sendB(pattern(40)), 40);
    assert.equal(txPtr(ring), 48);
    assert.equal(readRingBytes(ring, 240, 4).readUInt32LE(0), 56);
    assert.deepEqual(readRingBytes(ring, 0, 40), pattern(40));
    assert.deepEqual(at(drain(ring), 0).payload, pattern(40));
  });

  test("a payload that reaches the end of the ring wraps and continues at offset 0", () => {
    const { ring, sendB } = ringOf(256, 208);
    assert.equal(sendB(pattern(50)), 50);
    // Header at 208..223, payload 224..255 (32 bytes) then 0..17; tx = ROUNDUP16(18) = 32.
    assert.equal(txPtr(ring), 32);
    assert.deepEqual(readRingBytes(ring, 224, 50), pattern(50));
    assert.deepEqual(at(drain(ring), 0).payload, pattern(50));
  });

  test("the header never straddles the end of the ring: tx stays 16-aligned so it fits before len", () => {
    const { ring, sendB } = ringOf(96, 80);
    assert.equal(sendB(pattern(1)), 1);
    assert.equal(readRingBytes(ring, 80, 4).readUInt32LE(0), 17);
    assert.equal(txPtr(ring), 16);
  });

  test("a payload ending exactly at len wraps tx to 0", () => {
    const { ring, sendB } = ringOf(256, 192);
    assert.equal(sendB(pattern(48)), 48);
    assert.equal(txPtr(ring), 0);
  });

  test("a multi-iov message wraps mid-iov and stays intact", () => {
    const { h, a, b, ring } = ringOf(128, 96);
    const parts = [pattern(10, 1), pattern(20, 2), pattern(5, 3)];
    const iovs = parts.map((data) => payloadIov(b, data));
    const args = {
      src: { aport: 0, domainId: ARGO_DOMID_ANY },
      dst: { aport: 1, domainId: a.domid },
      iovs,
      messageType: 1,
    };
    assert.equal(h.argo.sendv(b, args), 35);
    assert.deepEqual(at(drain(ring), 0).payload, Buffer.concat(parts));
  });

  test("a ring spanning several pages carries messages across page boundaries intact", () => {
    const { ring, sendB } = ringOf(3 * 4096 - 64);
    for (let i = 0; i < 20; i++) {
      assert.equal(sendB(pattern(1000 + i, i)), 1000 + i);
      assert.deepEqual(at(drain(ring), 0).payload, pattern(1000 + i, i));
    }
  });
});

describe("padding and the free slot", () => {
  test("padding bytes after a payload are left untouched", () => {
    const { ring, sendB } = ringOf(256);
    fillRing(ring, 0xa5);
    assert.equal(sendB(pattern(23)), 23);
    assert.equal(txPtr(ring), 48);
    assert.deepEqual(readRingBytes(ring, 39, 9), Buffer.alloc(9, 0xa5));
    assert.deepEqual(readRingBytes(ring, 48, 208), Buffer.alloc(208, 0xa5));
  });

  test("one slot always stays free, so a full ring never has rx == tx", () => {
    const { ring, sendB } = ringOf(64);
    // Empty: space 64 - 32 = 32.
    assert.equal(sendB(pattern(32)), 32);
    assert.equal(txPtr(ring), 48);
    assert.notEqual(txPtr(ring), rxPtr(ring));
    assert.equal(sendB(Buffer.alloc(0)), -Errno.EAGAIN);
    assert.equal(drain(ring).length, 1);
    assert.equal(rxPtr(ring), txPtr(ring));
    assert.equal(sendB(Buffer.alloc(0)), 0);
  });

  test("rx == tx means empty: a message of max_message_size fits", () => {
    const { ring, sendB } = ringOf(256, 128);
    assert.equal(sendB(pattern(224)), 224);
    assert.deepEqual(at(drain(ring), 0).payload, pattern(224));
  });

  test("sendv succeeds exactly when the payload fits the space left after the free slot", () => {
    const { ring, sendB } = ringOf(256);
    assert.equal(sendB(pattern(100)), 100);
    // Used 16 + 112 = 128; space = 256 - 128 - 32 = 96.
    assert.equal(sendB(pattern(97)), -Errno.EAGAIN);
    assert.equal(sendB(pattern(96)), 96);
    assert.equal(drain(ring).length, 2);
  });
});

describe("the minimum 48-byte ring (argo-spec §4.4 worked example)", () => {
  test("an empty 48-byte ring takes one 16-byte payload", () => {
    const { ring, sendB } = ringOf(48);
    assert.equal(sendB(pattern(16)), 16);
    assert.equal(txPtr(ring), 32);
  });

  test("after one message a 48-byte ring refuses any further send with -EAGAIN", () => {
    const { sendB } = ringOf(48);
    sendB(pattern(16));
    assert.equal(sendB(pattern(1)), -Errno.EAGAIN);
    assert.equal(sendB(Buffer.alloc(0)), -Errno.EAGAIN);
  });

  test("a 17-byte payload can never fit a 48-byte ring: -EMSGSIZE", () => {
    const { sendB } = ringOf(48);
    assert.equal(sendB(pattern(17)), -Errno.EMSGSIZE);
  });

  test("a 48-byte ring cycles indefinitely through wrap-around", () => {
    const { ring, sendB } = ringOf(48);
    for (let i = 0; i < 10; i++) {
      assert.equal(sendB(pattern(16, i)), 16);
      assert.deepEqual(at(drain(ring), 0).payload, pattern(16, i));
    }
  });
});

describe("ring sizes", () => {
  test("the largest registrable ring (0xFFFFC0) carries a message of max_message_size", () => {
    const { ring, sendB } = ringOf(ARGO_MAX_REGISTERABLE_RING_LEN, 0, 34 * 1024 * 1024);
    const max = maxMessageSize(ARGO_MAX_REGISTERABLE_RING_LEN);
    assert.equal(sendB(pattern(max + 1)), -Errno.EMSGSIZE);
    assert.equal(sendB(pattern(max)), max);
    const m = readMessage(ring);
    assert.equal(m?.len, max + 16);
    assert.ok(m.payload.equals(pattern(max)));
  });

  test("register_ring rejects len 0x1000000 (4097 pages) with -EINVAL", () => {
    const h = createHarness({ domains: 1, memoryBytes: 20 * 1024 * 1024 });
    const a = at(h.doms, 0);
    const gfns = Array.from({ length: 4096 }, (_, i) => 16 + i);
    assert.equal(
      h.argo.registerRing(a, { aport: 1, partnerId: a.domid, len: 0x1000000, gfns, flags: 0 }),
      -Errno.EINVAL,
    );
    assert.equal(
      h.argo.registerRing(a, {
        aport: 1,
        partnerId: a.domid,
        len: 0x1000000,
        gfns: [...gfns, 5000],
        flags: 0,
      }),
      -Errno.EINVAL,
    );
  });
});

describe("sanitised rx_ptr", () => {
  test("sanitizeRxPtr rounds an unaligned rx_ptr up to the slot", () => {
    assert.equal(sanitizeRxPtr(17, 256), 32);
    assert.equal(sanitizeRxPtr(32, 256), 32);
  });

  test("sanitizeRxPtr maps rx_ptr >= len, or rounding up to len, to 0", () => {
    assert.equal(sanitizeRxPtr(256, 256), 0);
    assert.equal(sanitizeRxPtr(241, 256), 0);
    assert.equal(sanitizeRxPtr(0x80000000, 256), 0);
    assert.equal(sanitizeRxPtr(0xfffffff8, 256), 0);
  });

  test("an unaligned guest rx_ptr is treated as rounded up when computing space", () => {
    const { ring, sendB } = ringOf(256);
    assert.equal(sendB(pattern(100)), 100);
    // tx = 128. A guest rx of 1 is treated as 16: free span 16 + 256 - 128 = 144, space 112.
    setRxPtr(ring, 1);
    assert.equal(sendB(pattern(113)), -Errno.EAGAIN);
    assert.equal(sendB(pattern(112)), 112);
    assert.equal(txPtr(ring), 0);
  });

  test("a guest rx_ptr >= len is treated as 0 and the hypervisor never writes outside the ring", () => {
    const { ring, sendB } = ringOf(256);
    assert.equal(sendB(pattern(100)), 100);
    setRxPtr(ring, 0xfffffff0);
    // rx treated as 0: free span 256 - 128 = 128, space 96.
    assert.equal(sendB(pattern(97)), -Errno.EAGAIN);
    assert.equal(sendB(pattern(96)), 96);
    assert.equal(rxPtr(ring), 0xfffffff0);
  });

  test("the guest cannot move tx_ptr: the hypervisor ignores the guest's copy after registration", () => {
    const { ring, sendB } = ringOf(256);
    sendB(pattern(10));
    setGuestTxPtr(ring, 200);
    assert.equal(sendB(pattern(10)), 10);
    assert.equal(txPtr(ring), 64);
  });
});
