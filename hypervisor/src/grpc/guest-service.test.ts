// SPDX-License-Identifier: Apache-2.0
/**
 * The guest-facing and toolstack gRPC APIs over real loopback connections, driven with the
 * generated clients the way an external harness would: identity from the credential, memory
 * isolation, errno in `ret`, gRPC statuses only where Xen has no errno, at-most-once unary
 * calls, VIRQ events, teardown, and the raised message-size limit.
 */
import * as grpc from "@grpc/grpc-js";
import {
  ARGO_DOMID_ANY,
  ARGO_MSG_HEADER_SIZE,
  ARGO_MAX_REGISTERABLE_RING_LEN,
  Errno,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  VIRQ_ARGO,
  maxMessageSize,
  npagesRing,
} from "@hmx/proto/abi";
import { bearerMetadata } from "@hmx/proto";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  startTestHypervisor,
  type TestGuest,
  type TestHypervisor,
} from "../test-utils/test-hypervisor.js";

interface Ret {
  ret: number;
}

const RING_GPA = FIRST_GUEST_GFN * PAGE_SIZE;
const PAYLOAD_GPA = 64 * PAGE_SIZE;
const RING_LEN = 4096 - 64;

function gfnsFrom(gfn: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(gfn + i));
}

async function registerRing(
  g: TestGuest,
  aport: number,
  partnerId: number,
  len = RING_LEN,
  gfn = FIRST_GUEST_GFN,
): Promise<number> {
  await g.call("WriteMemory", { gpa: String(gfn * PAGE_SIZE), data: Buffer.alloc(64) });
  const r = await g.call<Ret>("RegisterRing", {
    aport,
    partnerId,
    len,
    gfns: gfnsFrom(gfn, npagesRing(len)),
    flags: 0,
  });
  return r.ret;
}

async function sendBytes(
  g: TestGuest,
  dst: { domainId: number; aport: number },
  data: Buffer,
  metadata?: grpc.Metadata,
): Promise<number> {
  await g.call("WriteMemory", { gpa: String(PAYLOAD_GPA), data });
  const r = await g.call<Ret>(
    "Sendv",
    {
      src: { aport: 5, domainId: ARGO_DOMID_ANY },
      dst,
      iovs: [{ gpa: String(PAYLOAD_GPA), len: data.length }],
      messageType: 7,
    },
    metadata,
  );
  return r.ret;
}

async function txPtr(g: TestGuest, gfn = FIRST_GUEST_GFN): Promise<number> {
  const r = await g.call<{ ret: number; data: Buffer }>("ReadMemory", {
    gpa: String(gfn * PAGE_SIZE),
    length: 8,
  });
  return r.data.readUInt32LE(4);
}

function grpcCode(err: unknown): number | undefined {
  return (err as grpc.ServiceError).code;
}

describe("guest API over gRPC", () => {
  let t: TestHypervisor;
  let a: TestGuest;
  let b: TestGuest;

  before(async () => {
    t = await startTestHypervisor();
    a = await t.createGuest("alpha");
    b = await t.createGuest("beta");
  });
  after(async () => {
    await t.stop();
  });

  test("GetDomainInfo describes the caller, identified by its credential alone", async () => {
    const info = await a.call<{
      domid: number;
      memoryBytes: string;
      pageSize: number;
      label: string;
    }>("GetDomainInfo", {});
    assert.deepEqual(info, {
      domid: a.domid,
      memoryBytes: String(4 * 1024 * 1024),
      pageSize: 4096,
      label: "alpha_t",
    });
  });

  test("a missing, malformed or foreign-format credential is UNAUTHENTICATED", async () => {
    for (const md of [
      new grpc.Metadata(),
      bearerMetadata("nope"),
      bearerMetadata(`${a.domid}.${"A".repeat(43)}`),
      bearerMetadata(t.adminToken),
    ]) {
      await assert.rejects(
        a.call("GetDomainInfo", {}, md),
        (err) => grpcCode(err) === grpc.status.UNAUTHENTICATED,
      );
    }
  });

  test("memory access beyond the caller's memory is -EFAULT and writes nothing", async () => {
    const size = 4 * 1024 * 1024;
    const w = await a.call<Ret>("WriteMemory", {
      gpa: String(size - 2),
      data: Buffer.from([1, 2, 3]),
    });
    assert.equal(w.ret, -Errno.EFAULT);
    const r = await a.call<{ ret: number; data: Buffer }>("ReadMemory", {
      gpa: String(size - 2),
      length: 2,
    });
    assert.deepEqual([r.ret, [...r.data]], [0, [0, 0]]);
    const beyond = await a.call<Ret>("ReadMemory", { gpa: String(size), length: 1 });
    assert.equal(beyond.ret, -Errno.EFAULT);
  });

  test("a gpa beyond 2^53 is -EFAULT, never truncated to a valid address", async () => {
    const r = await a.call<Ret>("ReadMemory", { gpa: "18446744073709551615", length: 1 });
    assert.equal(r.ret, -Errno.EFAULT);
    const w = await a.call<Ret>("WriteMemory", {
      gpa: String(2n ** 53n + 4096n),
      data: Buffer.from([1]),
    });
    assert.equal(w.ret, -Errno.EFAULT);
  });

  test("ReadMemory of more than 16 MiB is -EINVAL", async () => {
    const r = await a.call<Ret>("ReadMemory", { gpa: "0", length: 16 * 1024 * 1024 + 1 });
    assert.equal(r.ret, -Errno.EINVAL);
  });

  test("another domain's memory is unreachable: the same gpa always means the caller's own memory", async () => {
    const gpa = String(200 * PAGE_SIZE);
    assert.equal(
      (await a.call<Ret>("WriteMemory", { gpa, data: Buffer.from("alpha secret") })).ret,
      0,
    );
    const seenByB = await b.call<{ ret: number; data: Buffer }>("ReadMemory", { gpa, length: 12 });
    assert.deepEqual([seenByB.ret, seenByB.data.equals(Buffer.alloc(12))], [0, true]);
  });

  test("sendv with a spoofed source domid is -EPERM; 0x7FF4 is stamped with the caller's domid", async () => {
    assert.equal(await registerRing(b, 100, ARGO_DOMID_ANY), 0);
    await a.call("WriteMemory", { gpa: String(PAYLOAD_GPA), data: Buffer.from("hi") });
    for (const spoof of [b.domid, 0, 0x7fef]) {
      const r = await a.call<Ret>("Sendv", {
        src: { aport: 1, domainId: spoof },
        dst: { domainId: b.domid, aport: 100 },
        iovs: [{ gpa: String(PAYLOAD_GPA), len: 2 }],
        messageType: 0,
      });
      assert.equal(r.ret, -Errno.EPERM, `spoofed src ${spoof}`);
    }
    assert.equal(await sendBytes(a, { domainId: b.domid, aport: 100 }, Buffer.from("hi")), 2);
    const header = await b.call<{ data: Buffer }>("ReadMemory", {
      gpa: String(RING_GPA + 64),
      length: ARGO_MSG_HEADER_SIZE,
    });
    assert.equal(header.data.readUInt16LE(8), a.domid, "source domid stamped by the hypervisor");
    assert.equal(header.data.readUInt32LE(4), 5, "source aport copied verbatim");
    assert.equal(
      (await b.call<Ret>("UnregisterRing", { aport: 100, partnerId: ARGO_DOMID_ANY })).ret,
      0,
    );
  });

  test("a domain id above 0xFFFF is -EINVAL (it would be a non-zero pad in Xen)", async () => {
    const r = await a.call<Ret>("Sendv", {
      src: { aport: 1, domainId: 0x17ff4 },
      dst: { domainId: b.domid, aport: 1 },
      iovs: [],
      messageType: 0,
    });
    assert.equal(r.ret, -Errno.EINVAL);
  });

  test("a unary call carrying hmx-request-id is applied at most once", async () => {
    assert.equal(await registerRing(b, 200, a.domid), 0);
    const md = a.metadata.clone();
    md.set("hmx-request-id", "1");
    const first = await sendBytes(a, { domainId: b.domid, aport: 200 }, Buffer.from("once"), md);
    const tx = await txPtr(b);
    const retried = await sendBytes(a, { domainId: b.domid, aport: 200 }, Buffer.from("once"), md);
    assert.deepEqual([first, retried], [4, 4]);
    assert.equal(
      await txPtr(b),
      tx,
      "the retried sendv was answered from the resume log, not re-run",
    );
    assert.equal(tx, 32);
    assert.equal((await b.call<Ret>("UnregisterRing", { aport: 200, partnerId: a.domid })).ret, 0);
  });

  test("Notify reports ring flags and stops at -EACCES for more than 256 entries", async () => {
    assert.equal(await registerRing(b, 300, ARGO_DOMID_ANY), 0);
    const one = await a.call<{ ret: number; entries: { flags: number; maxMessageSize: number }[] }>(
      "Notify",
      {
        ringData: {
          entries: [
            { ring: { domainId: b.domid, aport: 300 }, spaceRequired: 16 },
            { ring: { domainId: 0x7000, aport: 1 }, spaceRequired: 0 },
          ],
        },
      },
    );
    assert.equal(one.ret, 0);
    assert.deepEqual(one.entries, [
      { flags: 1 | 2 | 4 | 8, maxMessageSize: maxMessageSize(RING_LEN) },
      { flags: 0, maxMessageSize: 0 },
    ]);
    const many = await a.call<Ret>("Notify", {
      ringData: {
        entries: Array.from({ length: 257 }, () => ({
          ring: { domainId: b.domid, aport: 300 },
          spaceRequired: 0,
        })),
      },
    });
    assert.equal(many.ret, -Errno.EACCES);
    const nullNotify = await a.call<{ ret: number; entries: unknown[] }>("Notify", {});
    assert.deepEqual([nullNotify.ret, nullNotify.entries], [0, []]);
    assert.equal(
      (await b.call<Ret>("UnregisterRing", { aport: 300, partnerId: ARGO_DOMID_ANY })).ret,
      0,
    );
  });

  test("WatchEvents delivers VIRQ_ARGO, coalescing a burst of deliveries", async () => {
    assert.equal(await registerRing(b, 400, a.domid), 0);
    const events: number[] = [];
    const stream = b.client.watchEvents({}, b.metadata);
    stream.on("error", () => undefined);
    const first = new Promise<void>((resolve) => {
      stream.on("data", (e: { virq?: { virq: number } }) => {
        events.push(e.virq?.virq ?? -1);
        resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    await a.call("WriteMemory", { gpa: String(PAYLOAD_GPA), data: Buffer.alloc(16) });
    const burst = Array.from({ length: 20 }, () => ({
      src: { aport: 1, domainId: ARGO_DOMID_ANY },
      dst: { domainId: b.domid, aport: 400 },
      iovs: [{ gpa: String(PAYLOAD_GPA), len: 16 }],
      messageType: 0,
    }));
    const rets = await Promise.all(burst.map((req) => a.call<Ret>("Sendv", req)));
    assert.ok(rets.every((r) => r.ret === 16));
    await first;
    await new Promise((r) => setTimeout(r, 100));
    stream.cancel();
    assert.ok(
      events.length >= 1 && events.length < 20,
      `got ${events.length} events for 20 deliveries`,
    );
    assert.ok(events.every((v) => v === VIRQ_ARGO));
    assert.equal((await b.call<Ret>("UnregisterRing", { aport: 400, partnerId: a.domid })).ret, 0);
  });

  test("a VIRQ raised while nobody watches is delivered when a watcher attaches", async () => {
    assert.equal(await registerRing(b, 500, a.domid), 0);
    assert.equal(
      await sendBytes(a, { domainId: b.domid, aport: 500 }, Buffer.from("while away")),
      10,
    );
    const stream = b.client.watchEvents({}, b.metadata);
    stream.on("error", () => undefined);
    const event = await new Promise<{ virq?: { virq: number } }>((resolve) =>
      stream.once("data", resolve),
    );
    stream.cancel();
    assert.equal(event.virq?.virq, VIRQ_ARGO);
    assert.equal((await b.call<Ret>("UnregisterRing", { aport: 500, partnerId: a.domid })).ret, 0);
  });

  test("a domain may hold at most 8 WatchEvents streams; the 9th is RESOURCE_EXHAUSTED", async () => {
    const g = await t.createGuest("watcher");
    const streams = Array.from({ length: 8 }, () => {
      const s = g.client.watchEvents({}, g.metadata);
      s.on("error", () => undefined);
      return s;
    });
    await new Promise((r) => setTimeout(r, 100));
    const ninth = g.client.watchEvents({}, g.metadata);
    const code = await new Promise<number>((resolve) => {
      ninth.on("error", (err: grpc.ServiceError) => {
        resolve(err.code);
      });
    });
    assert.equal(code, grpc.status.RESOURCE_EXHAUSTED);
    for (const s of streams) s.cancel();
    await new Promise((r) => setTimeout(r, 100));
    // Closing streams frees their places: a new one is accepted (no error before we cancel it).
    const again = g.client.watchEvents({}, g.metadata);
    let againCode: number | undefined;
    again.on("error", (err: grpc.ServiceError) => {
      againCode = err.code;
    });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(againCode, undefined);
    again.cancel();
  });

  test("the largest registrable ring (0xFFFFC0) carries a maximum-size message over gRPC", async () => {
    const big = await t.createGuest("big", 40 * 1024 * 1024);
    const len = ARGO_MAX_REGISTERABLE_RING_LEN;
    assert.equal(npagesRing(len), 4096);
    assert.equal(await registerRing(big, 1, ARGO_DOMID_ANY, len, FIRST_GUEST_GFN), 0);
    const payload = Buffer.alloc(maxMessageSize(len), 0xab);
    const dataGpa = (FIRST_GUEST_GFN + 4096) * PAGE_SIZE;
    assert.equal(
      (await big.call<Ret>("WriteMemory", { gpa: String(dataGpa), data: payload })).ret,
      0,
    );
    const sent = await big.call<Ret>("Sendv", {
      src: { aport: 1, domainId: ARGO_DOMID_ANY },
      dst: { domainId: big.domid, aport: 1 },
      iovs: [{ gpa: String(dataGpa), len: payload.length }],
      messageType: 0,
    });
    assert.equal(sent.ret, payload.length);
    const back = await big.call<{ ret: number; data: Buffer }>("ReadMemory", {
      gpa: String(RING_GPA + 64 + 16),
      length: payload.length,
    });
    assert.equal(back.ret, 0);
    assert.ok(back.data.equals(payload), "16 MiB-class payload intact after two gRPC hops");
    await t.toolstack.destroyDomain(big.domid);
  });
});

describe("toolstack API over gRPC", () => {
  let t: TestHypervisor;
  before(async () => {
    t = await startTestHypervisor();
  });
  after(async () => {
    await t.stop();
  });

  test("a wrong admin token is UNAUTHENTICATED", async () => {
    const { ToolstackClient } = await import("@hmx/client");
    const wrong = new ToolstackClient(t.hv.controlListen, "not-the-token-at-all");
    await assert.rejects(
      wrong.listDomains(),
      (err) => grpcCode(err) === grpc.status.UNAUTHENTICATED,
    );
    wrong.close();
  });

  test("CreateDomain rejects bad input with INVALID_ARGUMENT naming the value, and duplicates with ALREADY_EXISTS", async () => {
    await assert.rejects(
      t.toolstack.createDomain({ name: "x", label: "x_t", memoryBytes: 65537 }),
      (err: grpc.ServiceError) =>
        err.code === grpc.status.INVALID_ARGUMENT && err.details.includes("65537"),
    );
    await assert.rejects(
      t.toolstack.createDomain({ name: "bad name!", label: "x_t", memoryBytes: 65536 }),
      (err: grpc.ServiceError) =>
        err.code === grpc.status.INVALID_ARGUMENT && err.details.includes("bad name!"),
    );
    await t.toolstack.createDomain({ name: "twin", label: "x_t", memoryBytes: 65536 });
    await assert.rejects(
      t.toolstack.createDomain({ name: "twin", label: "x_t", memoryBytes: 65536 }),
      (err) => grpcCode(err) === grpc.status.ALREADY_EXISTS,
    );
    assert.equal((await t.toolstack.listDomains()).filter((d) => d.name === "twin").length, 1);
  });

  test("DestroyDomain revokes the credential, ends the domain's streams and tears down partner rings", async () => {
    const owner = await t.createGuest("owner");
    const partner = await t.createGuest("partner");
    assert.equal(await registerRing(owner, 9, partner.domid), 0);
    const stream = partner.client.watchEvents({}, partner.metadata);
    const ended = new Promise<number>((resolve) => {
      stream.on("error", (err: grpc.ServiceError) => {
        resolve(err.code);
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    await t.toolstack.destroyDomain(partner.domid);
    assert.equal(await ended, grpc.status.UNAUTHENTICATED);
    await assert.rejects(
      partner.call("GetDomainInfo", {}),
      (err) => grpcCode(err) === grpc.status.UNAUTHENTICATED,
    );
    const owned = (await t.toolstack.listDomains()).find((d) => d.domid === owner.domid);
    assert.equal(
      owned?.rings,
      0,
      "the owner's unicast ring toward the destroyed partner was torn down",
    );
    assert.equal(
      await sendBytes(owner, { domainId: partner.domid, aport: 1 }, Buffer.from("x")),
      -Errno.ESRCH,
    );
    await assert.rejects(
      t.toolstack.destroyDomain(partner.domid),
      (err) => grpcCode(err) === grpc.status.NOT_FOUND,
    );
  });

  test("domain ids are never reused within a run", async () => {
    const first = await t.toolstack.createDomain({
      name: "ephemeral",
      label: "x_t",
      memoryBytes: 65536,
    });
    await t.toolstack.destroyDomain(first.domid);
    const second = await t.toolstack.createDomain({
      name: "ephemeral",
      label: "x_t",
      memoryBytes: 65536,
    });
    assert.ok(second.domid > first.domid);
  });
});

describe("--no-argo", () => {
  test("every Argo hypercall is -EOPNOTSUPP while memory calls still work", async () => {
    const t = await startTestHypervisor({ argoEnabled: false });
    try {
      const g = await t.createGuest("solo");
      assert.equal(
        (await g.call<Ret>("WriteMemory", { gpa: String(RING_GPA), data: Buffer.alloc(64) })).ret,
        0,
      );
      assert.equal(
        (
          await g.call<Ret>("RegisterRing", {
            aport: 1,
            partnerId: g.domid,
            len: RING_LEN,
            gfns: [String(FIRST_GUEST_GFN)],
            flags: 0,
          })
        ).ret,
        -Errno.EOPNOTSUPP,
      );
      assert.equal(
        (await g.call<Ret>("UnregisterRing", { aport: 1, partnerId: g.domid })).ret,
        -Errno.EOPNOTSUPP,
      );
      assert.equal(
        (
          await g.call<Ret>("Sendv", {
            src: { aport: 1, domainId: ARGO_DOMID_ANY },
            dst: { domainId: g.domid, aport: 1 },
            iovs: [],
            messageType: 0,
          })
        ).ret,
        -Errno.EOPNOTSUPP,
      );
      assert.equal((await g.call<Ret>("Notify", {})).ret, -Errno.EOPNOTSUPP);
    } finally {
      await t.stop();
    }
  });
});
