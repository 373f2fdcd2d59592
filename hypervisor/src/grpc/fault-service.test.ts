// SPDX-License-Identifier: Apache-2.0
/**
 * The toolstack's fault RPCs end to end: a real hypervisor, guests calling over gRPC, faults
 * applied, listed, watched and cleared with the @hmx/client ToolstackClient. A guest sees only
 * Xen's errnos; refused requests name the bad value and change nothing.
 */
import * as grpc from "@grpc/grpc-js";
import type { FaultEventView } from "@hmx/client";
import { ARGO_DOMID_ANY, Errno, FIRST_GUEST_GFN, PAGE_SIZE, npagesRing } from "@hmx/proto/abi";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  startTestHypervisor,
  type TestGuest,
  type TestHypervisor,
} from "../test-utils/test-hypervisor.js";

const LEN = 4096 - 64;
const DATA_GPA = 48 * PAGE_SIZE;

/** Gives `g` a ring on aport 1 that any domain may send to. */
async function openRing(g: TestGuest): Promise<void> {
  const gfns = Array.from({ length: npagesRing(LEN) }, (_, i) => String(FIRST_GUEST_GFN + i));
  const r = await g.call<{ ret: number }>("RegisterRing", {
    aport: 1,
    partnerId: ARGO_DOMID_ANY,
    len: LEN,
    gfns,
    flags: 0,
  });
  assert.equal(r.ret, 0);
}

/** One 32-byte sendv from `g` to `dst`'s ring; its ret. */
async function sendTo(g: TestGuest, dst: TestGuest): Promise<number> {
  await g.call("WriteMemory", { gpa: String(DATA_GPA), data: Buffer.alloc(32, 7) });
  const r = await g.call<{ ret: number }>("Sendv", {
    src: { aport: 2, domainId: ARGO_DOMID_ANY },
    dst: { domainId: dst.domid, aport: 1 },
    iovs: [{ gpa: String(DATA_GPA), len: 32 }],
    messageType: 0,
  });
  return r.ret;
}

function rejectsWith(code: grpc.status, message: RegExp) {
  return (err: unknown): boolean => {
    const e = err as grpc.ServiceError;
    assert.equal(e.code, code, e.details);
    assert.match(e.details, message);
    return true;
  };
}

describe("toolstack fault API", { timeout: 60_000 }, () => {
  let t: TestHypervisor;
  let a: TestGuest;
  let b: TestGuest;

  before(async () => {
    t = await startTestHypervisor({ argoMacPermissive: true });
    a = await t.createGuest("alpha");
    b = await t.createGuest("beta");
    await openRing(a);
    await openRing(b);
  });
  after(async () => {
    await t.stop();
  });

  test("ApplyFault partitions two domains: each sender sees -EAGAIN until ClearFaults heals it", async () => {
    const fault = await t.toolstack.applyFault({
      argo: { type: "partition", from: ["alpha"], to: ["beta"], bothWays: true },
    });
    assert.match(fault.id, /^argo-\d+$/);
    assert.equal(await sendTo(a, b), -Errno.EAGAIN);
    assert.equal(await sendTo(b, a), -Errno.EAGAIN);
    assert.deepEqual(await t.toolstack.clearFaults([fault.id]), [fault.id]);
    assert.equal(await sendTo(a, b), 32);
  });

  test("a partition shown as refused gives the sender -ECONNREFUSED", async () => {
    await t.toolstack.applyFault({
      argo: { type: "partition", from: ["alpha"], to: ["beta"], show: "refused" },
    });
    assert.equal(await sendTo(a, b), -Errno.ECONNREFUSED);
    assert.equal(await sendTo(b, a), 32, "one way only");
    await t.toolstack.clearFaults();
  });

  test("ListFaults shows each fault as applied, with its id and duration", async () => {
    const storm = await t.toolstack.applyFault({
      argo: { type: "eagain", from: ["alpha"], probability: 0.25 },
      durationMs: 600_000,
    });
    const paused = await t.toolstack.applyFault({ argo: { type: "pause", from: ["beta"] } });
    assert.deepEqual(await t.toolstack.listFaults(), [
      {
        id: storm.id,
        argo: { type: "eagain", from: ["alpha"], probability: 0.25, delayMs: 1 },
        durationMs: 600_000,
      },
      { id: paused.id, argo: { type: "pause", from: ["beta"] } },
    ]);
    assert.deepEqual(await t.toolstack.clearFaults(), [storm.id, paused.id]);
    assert.deepEqual(await t.toolstack.listFaults(), []);
  });

  test("a paused domain's hypercalls wait until it is unpaused", async () => {
    const fault = await t.toolstack.applyFault({ argo: { type: "pause", from: ["beta"] } });
    let answered = false;
    const sent = sendTo(b, a).then((ret) => {
      answered = true;
      return ret;
    });
    // alpha still runs while beta is paused.
    assert.equal(await sendTo(a, b), 32);
    assert.equal(answered, false, "beta's sendv has not run");
    await t.toolstack.clearFaults([fault.id]);
    assert.equal(await sent, 32);
  });

  test("WatchFaults streams each start and end; the fault ends by itself after its duration", async () => {
    const events: FaultEventView[] = [];
    const ended = new Promise<void>((resolve) => {
      const watch = t.toolstack.watchFaults((e) => {
        events.push(e);
        if (e.action === "end") {
          watch.cancel();
          resolve();
        }
      });
    });
    // The stream is open once the server has subscribed; a short retry loop covers the race.
    let fault;
    for (let i = 0; events.length === 0 && i < 50; i++) {
      fault = await t.toolstack.applyFault({
        argo: { type: "late_virq", from: ["alpha"], delayMs: 5 },
        durationMs: 20,
      });
      await new Promise((r) => setTimeout(r, 30));
    }
    await ended;
    assert.ok(fault !== undefined);
    const first = events[0];
    assert.equal(first?.kind, "argo");
    assert.equal(first.action, "start");
    assert.equal(first.target, "alpha");
    assert.deepEqual(first.detail, {
      type: "late_virq",
      from: ["alpha"],
      delayMs: 5,
      jitterMs: 0,
      durationMs: 20,
    });
    assert.equal(events[1]?.action, "end");
    assert.equal(events[1].id, first.id);
  });

  test("a bad fault is INVALID_ARGUMENT or NOT_FOUND naming the value, and changes nothing", async () => {
    await assert.rejects(
      t.toolstack.applyFault({ argo: { type: "partition", from: ["alpha"], to: ["nobody"] } }),
      rejectsWith(grpc.status.NOT_FOUND, /no live domain named "nobody"/),
    );
    await assert.rejects(
      t.toolstack.applyFault({ argo: { type: "eagain", from: ["alpha"], probability: 3 } }),
      rejectsWith(grpc.status.INVALID_ARGUMENT, /probability 3: expected a number in 0..1/),
    );
    await assert.rejects(
      t.toolstack.applyFault({ argo: { type: "partition", from: ["alpha"] }, durationMs: 2 ** 31 }),
      rejectsWith(
        grpc.status.INVALID_ARGUMENT,
        /durationMs 2147483648: expected an integer in 0..2147483647 ms/,
      ),
    );
    await assert.rejects(
      t.toolstack.clearFaults(["argo-999"]),
      rejectsWith(grpc.status.NOT_FOUND, /no fault with id "argo-999"/),
    );
    await assert.rejects(
      t.toolstack.applyFault({ link: { domain: "alpha", down: true } }),
      rejectsWith(grpc.status.FAILED_PRECONDITION, /--link-faults or --toxiproxy-listen/),
    );
    assert.deepEqual(await t.toolstack.listFaults(), []);
  });

  test("the fault RPCs need the admin token", async () => {
    const { ToolstackClient } = await import("@hmx/client");
    const stranger = new ToolstackClient(t.hv.controlListen, "not-the-token");
    try {
      await assert.rejects(stranger.listFaults(), rejectsWith(grpc.status.UNAUTHENTICATED, /./));
    } finally {
      stranger.close();
    }
  });
});

describe("toolstack fault API on links", { timeout: 60_000 }, () => {
  let t: TestHypervisor;

  before(async () => {
    t = await startTestHypervisor({ linkFaults: { seed: 5 } });
    await t.createGuest("gamma");
  });
  after(async () => {
    await t.stop();
  });

  test("link faults by domain name: down and a toxic, listed with their ids, then cleared", async () => {
    const down = await t.toolstack.applyFault({ link: { domain: "gamma", down: true } });
    const slow = await t.toolstack.applyFault({
      link: {
        domain: "gamma",
        toxic: { type: "latency", stream: "upstream", attributes: { latency: 10 } },
      },
    });
    assert.equal(down.id, "link:gamma/down");
    assert.equal(slow.id, "link:gamma/latency_upstream");
    assert.deepEqual(
      (await t.toolstack.listFaults()).map((f) => f.id),
      ["link:gamma/down", "link:gamma/latency_upstream"],
    );
    const links = t.hv.linkFaults;
    assert.ok(links !== undefined);
    assert.equal(links.view("gamma").enabled, false);
    await assert.rejects(
      t.toolstack.applyFault({ link: { domain: "gamma", down: true } }),
      rejectsWith(grpc.status.ALREADY_EXISTS, /already down/),
    );
    await assert.rejects(
      t.toolstack.applyFault({ link: { domain: "gamma", toxic: { type: "gremlin" } } }),
      rejectsWith(grpc.status.INVALID_ARGUMENT, /invalid toxic type: "gremlin"/),
    );
    assert.deepEqual(await t.toolstack.clearFaults(), [down.id, slow.id]);
    assert.equal(links.view("gamma").enabled, true);
    assert.deepEqual(links.view("gamma").toxics, []);
  });
});
