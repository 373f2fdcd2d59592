// SPDX-License-Identifier: Apache-2.0
/**
 * Consume on answer (rx-ring.ts "Consume on answer", dgram-socket.ts `SendOptions.answers`),
 * against the real hypervisor core in process: a request/reply server's request leaves its
 * ring only in the multicall that sends the reply, the rx store after the sendv, and a reply
 * refused with -EAGAIN consumes nothing. This is what makes an echo guest killed at any instant
 * lose no request (docs/state-guests.md).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RING_RX_PTR_OFFSET, RING_TX_PTR_OFFSET } from "@hmx/proto/abi";
import { until } from "@hmx/virtio/test-utils";
import type { HypercallClient, HypercallOp } from "../hypercall/hypercall-client.js";
import { InProcessHypervisor } from "../test-utils/in-process-client.js";
import { ArgoEndpoint } from "./argo-endpoint.js";
import type { DgramSocket } from "./dgram-socket.js";

/** Records the ops of every multicall `client` issues. */
function recordBatches(client: HypercallClient): HypercallOp[][] {
  const batches: HypercallOp[][] = [];
  const batch = client.batch.bind(client);
  client.batch = (ops, options) => {
    batches.push([...ops]);
    return batch(ops, options);
  };
  return batches;
}

/** The rx_ptr the hypervisor sees in `socket`'s ring header (what is consumed). */
async function publishedRx(client: HypercallClient, socket: DgramSocket): Promise<number> {
  const { data } = await client.readMemory(socket.ring.gpa + RING_RX_PTR_OFFSET, 4);
  return data.readUInt32LE(0);
}

/** An asker (a) and a server (b) whose socket consumes requests only with their answers. */
async function askerAndServer(askerRingLen?: number) {
  const hv = new InProcessHypervisor();
  const ca = hv.createGuest({ name: "asker" });
  const cb = hv.createGuest({ name: "server" });
  const a = await ArgoEndpoint.create(ca);
  const b = await ArgoEndpoint.create(cb);
  const batches = recordBatches(cb);
  const server = await b.bind({ aport: 7, partner: a.domid, consumeOnAnswer: true });
  const asker = await a.bind({
    partner: b.domid,
    ...(askerRingLen === undefined ? {} : { ringLen: askerRingLen }),
  });
  return { ca, cb, a, b, server, asker, batches };
}

describe("consume on answer (request/reply servers)", { timeout: 20_000 }, () => {
  it("a request leaves its ring only with its reply: the rx store rides after the reply's sendv, in its multicall", async () => {
    const { cb, a, b, server, asker, batches } = await askerAndServer();
    await asker.sendTo(server.address, Buffer.from("ping 1"));
    const request = await server.receive();
    assert.ok(request !== null);
    assert.equal(request.rxAfter, 32, "16-byte header + 6 bytes, slot-rounded");
    // Taken by the server, but not consumed in the hypervisor's view: a kill now keeps it.
    assert.equal(await publishedRx(cb, server), 0, "no rx store before the reply");
    const before = batches.length;
    await server.sendTo(request.source, request.data, { answers: request });
    const reply = batches.slice(before).find((ops) => ops.some((o) => o.op === "sendv"));
    assert.deepEqual(
      reply?.map((o) => o.op),
      ["writeMemory", "sendv", "writeMemory", "notify"],
      "staging, the reply's sendv, then the rx store and notify(NULL)",
    );
    const store = reply.at(2);
    assert.ok(store?.op === "writeMemory");
    assert.equal(store.gpa, server.ring.gpa + RING_RX_PTR_OFFSET);
    assert.equal(Buffer.from(store.data).readUInt32LE(0), 32);
    assert.equal(await publishedRx(cb, server), 32, "consumed together with its answer");
    assert.equal((await asker.receive())?.data.toString(), "ping 1");
    await Promise.all([a.close(), b.close()]);
  });

  it("a reply refused with -EAGAIN (the asker's ring full) consumes nothing; its retry after the asker frees space consumes the request", async () => {
    // The asker's ring: 48 bytes hold one 32-byte message and leave no room for a second.
    const { ca, cb, a, b, server, asker } = await askerAndServer(48);
    await asker.sendTo(server.address, Buffer.from("ping 1"));
    const request = await server.receive();
    assert.ok(request !== null);
    // The asker stops draining, and a filler from another of the server's sockets fills its ring.
    await asker.quiesce();
    const filler = await b.bind({ partner: a.domid });
    await filler.sendTo(asker.address, Buffer.from("filler"));
    const replied = server.sendTo(request.source, request.data, { answers: request });
    await until("the reply refused with -EAGAIN", () => server.stats.eagains > 0);
    assert.equal(await publishedRx(cb, server), 0, "the skipped rx store left the request");
    // The asker consumes everything (rx = tx) and notifies: the space waiter fires a VIRQ.
    const ringGpa = asker.ring.gpa;
    const { data: tx } = await ca.readMemory(ringGpa + RING_TX_PTR_OFFSET, 4);
    await ca.batch([
      { op: "writeMemory", gpa: ringGpa + RING_RX_PTR_OFFSET, data: tx },
      { op: "notify", ringData: null },
    ]);
    assert.equal(await replied, 6);
    assert.equal(await publishedRx(cb, server), 32, "consumed with the reply that went");
    await Promise.all([a.close(), b.close()]);
  });

  it("an answer never moves rx back: a reply for a request already consumed stores nothing", async () => {
    const { cb, a, b, server, asker, batches } = await askerAndServer();
    await asker.sendTo(server.address, Buffer.from("one"));
    await asker.sendTo(server.address, Buffer.from("two"));
    const first = await server.receive();
    const second = await server.receive();
    assert.ok(first !== null && second !== null);
    await server.sendTo(second.source, second.data, { answers: second });
    assert.equal(await publishedRx(cb, server), 64, "both consumed by the later answer");
    const before = batches.length;
    await server.sendTo(first.source, first.data, { answers: first });
    const late = batches.slice(before).find((ops) => ops.some((o) => o.op === "sendv"));
    assert.deepEqual(
      late?.map((o) => o.op),
      ["writeMemory", "sendv"],
    );
    assert.equal(await publishedRx(cb, server), 64);
    await Promise.all([a.close(), b.close()]);
  });
});
