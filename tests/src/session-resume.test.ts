// SPDX-License-Identifier: Apache-2.0
/**
 * Resilience at the hypercall level, end to end: a SessionClient talks to a real hypervisor
 * process through a TCP proxy that cuts the link several times in the middle of a pipelined
 * stream of numbered sendvs. Every hypercall must be applied at most once and none lost: the
 * receiving ring ends up holding each message exactly once, in order.
 */
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import {
  ARGO_DOMID_ANY,
  ARGO_MSG_HEADER_SIZE,
  ARGO_RING_HEADER_SIZE,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  npagesRing,
  ringLenForPages,
  roundUpToSlot,
} from "@hmx/proto/abi";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Testbed } from "@hmx/testkit";
import { TcpProxy } from "@hmx/testkit";

const MESSAGES = 1500;
const PER_BATCH = 10;
const RING_PAGES = 64;

let bed: Testbed;
before(async () => {
  bed = await Testbed.start();
});
after(async () => {
  await bed.stopAll();
});

test("a guest whose link drops mid-stream resumes: every sendv applied exactly once, in order", async () => {
  const receiver = await bed.toolstack.createDomain({
    name: "receiver",
    label: "rx_t",
    memoryBytes: 8 * 1024 * 1024,
  });
  const sender = await bed.toolstack.createDomain({
    name: "sender",
    label: "tx_t",
    memoryBytes: 8 * 1024 * 1024,
  });
  const rx = await SessionClient.connect({ address: bed.listen, credential: receiver.credential });
  const proxy = await TcpProxy.start(bed.listen);
  const tx = await SessionClient.connect({ address: proxy.address, credential: sender.credential });
  try {
    // A ring large enough for every message, so the test is about resume, not flow control.
    const len = ringLenForPages(RING_PAGES);
    const ringGpa = FIRST_GUEST_GFN * PAGE_SIZE;
    assert.equal(await rx.writeMemory(ringGpa, Buffer.alloc(ARGO_RING_HEADER_SIZE)), 0);
    const gfns = Array.from({ length: npagesRing(len) }, (_, i) => FIRST_GUEST_GFN + i);
    assert.equal(
      await rx.registerRing({ aport: 9, partnerId: sender.domid, len, gfns, flags: 0 }),
      0,
    );

    // Each message gets its own staging slot: batches are pipelined, so slots must not be reused
    // before their sendv has run (they run in order, but a resend replays old writes too).
    const stagingGpa = (FIRST_GUEST_GFN + 8) * PAGE_SIZE;
    const pending: Promise<unknown>[] = [];
    let cuts = 0;
    for (let seq = 0; seq < MESSAGES; seq += PER_BATCH) {
      const ops: HypercallOp[] = [];
      for (let k = seq; k < seq + PER_BATCH; k++) {
        const payload = Buffer.alloc(8);
        payload.writeUInt32LE(k, 0);
        const gpa = stagingGpa + k * 8;
        ops.push({ op: "writeMemory", gpa, data: payload });
        ops.push({
          op: "sendv",
          src: { aport: 1, domainId: ARGO_DOMID_ANY },
          dst: { aport: 9, domainId: receiver.domid },
          iovs: [{ gpa, len: 8 }],
          messageType: 0,
        });
      }
      pending.push(tx.batch(ops, { stopOnError: true }));
      if (seq > 0 && seq % 300 === 0) {
        // Let part of what was just queued reach the hypervisor, then drop the link under it,
        // and wait for the client to be back before queueing more (each cut hits a live link).
        await new Promise((r) => setTimeout(r, 2));
        const accepted = proxy.accepted;
        cuts += proxy.cut() > 0 ? 1 : 0;
        const deadline = Date.now() + 10_000;
        while ((proxy.accepted === accepted || tx.state !== "ready") && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }
    const outcomes = (await Promise.all(pending)).flat() as { op: string; ret?: number }[];
    assert.ok(cuts >= 3, `the link was cut ${cuts} times`);
    assert.ok(tx.reconnects >= 3, `the sender reconnected ${tx.reconnects} times`);
    const sends = outcomes.filter((o) => o.op === "sendv");
    assert.equal(sends.length, MESSAGES);
    assert.ok(
      sends.every((o) => o.ret === 8),
      "every sendv succeeded exactly as first answered",
    );

    // Read the ring back the way a guest does (argo-spec §4.6): each message once, in order.
    const header = await rx.readMemory(ringGpa, 8);
    const txPtr = header.data.readUInt32LE(4);
    const slot = roundUpToSlot(ARGO_MSG_HEADER_SIZE + 8);
    assert.equal(txPtr, MESSAGES * slot, "the ring holds exactly one copy of each message");
    const data = await rx.readMemory(ringGpa + ARGO_RING_HEADER_SIZE, txPtr);
    for (let k = 0; k < MESSAGES; k++) {
      const at = k * slot;
      assert.equal(data.data.readUInt32LE(at), ARGO_MSG_HEADER_SIZE + 8);
      assert.equal(data.data.readUInt16LE(at + 8), sender.domid);
      assert.equal(data.data.readUInt32LE(at + ARGO_MSG_HEADER_SIZE), k, `message ${k} in place`);
    }
  } finally {
    await tx.close();
    await rx.close();
    await proxy.close();
  }
});
