// SPDX-License-Identifier: Apache-2.0
/**
 * Fuzzing the guest API: a hostile guest throws random and malformed hypercall arguments at a
 * real hypervisor over gRPC. Only Xen errnos (or the few documented gRPC statuses) may come
 * back, the service must stay up, and a victim domain whose ring the fuzzer may not reach must
 * see its memory untouched and keep working. Bounded by count; the seed is printed so any
 * failure replays with HMX_TEST_SEED.
 */
import * as grpc from "@grpc/grpc-js";
import { ARGO_DOMID_ANY, Errno, FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import fc from "fast-check";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { startTestHypervisor, type TestGuest } from "../test-utils/test-hypervisor.js";

const KNOWN_ERRNOS = new Set(Object.values(Errno).map((e) => -e));
const ALLOWED_STATUSES = new Set([grpc.status.RESOURCE_EXHAUSTED, grpc.status.INVALID_ARGUMENT]);
const RUNS = 600;

const u32 = fc.oneof(
  fc.constantFrom(0, 1, 16, 47, 48, 0x7ff4, 0xffff, 0x10000, 0xffffffff),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const domainId = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 0x7ff4, 0x7fef, 0xffff, 0x10000),
  fc.integer({ min: 0, max: 0x1ffff }),
);
const u64 = fc.oneof(
  fc.constantFrom("0", "15", "16", "1023", "18446744073709551615", "9007199254740993"),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
  fc.integer({ min: 0, max: 4 * 1024 * 1024 }).map(String),
);
const addr = fc.record({ aport: u32, domainId });

const hypercall = fc.oneof(
  fc.record({
    method: fc.constant("ReadMemory"),
    request: fc.record({ gpa: u64, length: fc.oneof(u32, fc.integer({ min: 0, max: 9000 })) }),
  }),
  fc.record({
    method: fc.constant("WriteMemory"),
    request: fc.record({
      gpa: u64,
      data: fc.uint8Array({ maxLength: 9000 }).map((a) => Buffer.from(a)),
    }),
  }),
  fc.record({
    method: fc.constant("RegisterRing"),
    request: fc.record({
      aport: u32,
      partnerId: domainId,
      len: u32,
      gfns: fc.array(u64, { maxLength: 40 }),
      flags: u32,
    }),
  }),
  fc.record({
    method: fc.constant("RegisterRing"),
    request: fc.record({
      aport: u32,
      partnerId: domainId,
      len: u32,
      gfns: fc.constant(Array.from({ length: 4097 }, (_, i) => String(16 + i))),
      flags: fc.constant(0),
    }),
  }),
  fc.record({
    method: fc.constant("UnregisterRing"),
    request: fc.record({ aport: u32, partnerId: domainId }),
  }),
  fc.record({
    method: fc.constant("Sendv"),
    request: fc.record({
      src: addr,
      dst: addr,
      iovs: fc.array(fc.record({ gpa: u64, len: u32 }), { maxLength: 10 }),
      messageType: u32,
    }),
  }),
  fc.record({
    method: fc.constant("Notify"),
    request: fc.oneof(
      fc.constant({}),
      fc.record({
        ringData: fc.record({
          entries: fc.array(fc.record({ ring: addr, spaceRequired: u32 }), { maxLength: 300 }),
        }),
      }),
    ),
  }),
);

function memoryDigest(g: TestGuest, bytes: number): Promise<string> {
  return g
    .call<{ data: Buffer }>("ReadMemory", { gpa: "0", length: bytes })
    .then((r) => createHash("sha256").update(r.data).digest("hex"));
}

test("random and malformed hypercalls get only errnos, the service stays up, and other domains are unaffected", async () => {
  const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`fuzz seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
  const t = await startTestHypervisor({ argoMacPermissive: true });
  try {
    const fuzzer = await t.createGuest("fuzzer", 4 * 1024 * 1024);
    const victim = await t.createGuest("victim", 1024 * 1024);
    const friend = await t.createGuest("friend", 1024 * 1024);
    // The victim's ring accepts only `friend`: nothing the fuzzer does may change it.
    const ringGpa = String(FIRST_GUEST_GFN * PAGE_SIZE);
    await victim.call("WriteMemory", { gpa: ringGpa, data: Buffer.alloc(64) });
    const reg = await victim.call<{ ret: number }>("RegisterRing", {
      aport: 7,
      partnerId: friend.domid,
      len: 4032,
      gfns: [String(FIRST_GUEST_GFN)],
      flags: 0,
    });
    assert.equal(reg.ret, 0);
    const before = await memoryDigest(victim, 1024 * 1024);

    let calls = 0;
    await fc.assert(
      fc.asyncProperty(hypercall, async ({ method, request }) => {
        calls++;
        try {
          const reply = await fuzzer.call<{ ret: number }>(method, request);
          assert.ok(
            reply.ret >= 0 || KNOWN_ERRNOS.has(reply.ret),
            `${method} returned ${reply.ret}, not a Xen errno`,
          );
        } catch (err) {
          const code = (err as grpc.ServiceError).code;
          assert.ok(
            ALLOWED_STATUSES.has(code),
            `${method} failed with gRPC status ${code}: ${(err as Error).message}`,
          );
        }
      }),
      { numRuns: RUNS, seed, endOnFailure: true },
    );
    assert.equal(calls, RUNS);

    assert.equal(
      await memoryDigest(victim, 1024 * 1024),
      before,
      "the victim's memory is byte-for-byte unchanged",
    );
    await friend.call("WriteMemory", {
      gpa: String(32 * PAGE_SIZE),
      data: Buffer.from("still works"),
    });
    const sent = await friend.call<{ ret: number }>("Sendv", {
      src: { aport: 1, domainId: ARGO_DOMID_ANY },
      dst: { domainId: victim.domid, aport: 7 },
      iovs: [{ gpa: String(32 * PAGE_SIZE), len: 11 }],
      messageType: 0,
    });
    assert.equal(sent.ret, 11, "the victim still receives from its partner");
    const info = await fuzzer.call<{ domid: number }>("GetDomainInfo", {});
    assert.equal(info.domid, fuzzer.domid, "the service is still up for the fuzzer itself");
  } finally {
    await t.stop();
  }
});
