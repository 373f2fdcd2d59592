// SPDX-License-Identifier: Apache-2.0
/**
 * The hand codec of the guest's Session frames against proto-loader's generated one, on random
 * frames (seeded, bounded): a batch encoded by hand means what proto-loader's encoding means,
 * and a results frame (or any other reply, or damaged bytes) decodes to exactly what
 * proto-loader's deserializer gives, or fails where it fails.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadHypervisorProto } from "@hmx/proto";
import { propertySeed } from "@hmx/virtio/test-utils";
import type { SessionResponse } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";
import type { HypercallOp } from "./hypercall-client.js";
import { encodeSessionFrame, sessionReplyDecoder } from "./session-frame-codec.js";
import {
  batchFrame,
  encodeCall,
  openFrame,
  type EncodedCall,
  type SessionFrame,
} from "./wire-codec.js";

const session = loadHypervisorProto().hmx.argo.v1.Hypervisor.service.Session;
const decodeReply = sessionReplyDecoder(session.responseDeserialize);

const u32 = fc.oneof(fc.constantFrom(0, 1, 0x7ff4, 0xffffffff), fc.nat({ max: 0xffffffff }));
const u64 = fc.oneof(fc.constantFrom(0, 4096, Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const addr = fc.record({ aport: u32, domainId: u32 });
const bytes = fc.uint8Array({ maxLength: 300 });

const op: fc.Arbitrary<HypercallOp> = fc.oneof(
  fc.constant({ op: "getDomainInfo" as const }),
  fc.record({ op: fc.constant("readMemory" as const), gpa: u64, length: u32 }),
  fc.record({ op: fc.constant("writeMemory" as const), gpa: u64, data: bytes }),
  fc.record({
    op: fc.constant("registerRing" as const),
    aport: u32,
    partnerId: u32,
    len: u32,
    gfns: fc.array(u64, { maxLength: 5 }),
    flags: u32,
  }),
  fc.record({ op: fc.constant("unregisterRing" as const), aport: u32, partnerId: u32 }),
  fc.record({
    op: fc.constant("sendv" as const),
    src: addr,
    dst: addr,
    iovs: fc.array(fc.record({ gpa: u64, len: u32 }), { maxLength: 4 }),
    messageType: u32,
  }),
  fc.record({
    op: fc.constant("notify" as const),
    ringData: fc.option(fc.array(fc.record({ ring: addr, spaceRequired: u32 }), { maxLength: 3 }), {
      nil: null,
    }),
  }),
);

const batch = fc
  .tuple(
    fc.array(op, { maxLength: 12 }),
    fc.boolean(),
    u64,
    fc.integer({ min: 1, max: 1e9 }),
    fc.oneof(fc.constant(0), u64),
  )
  .map(([ops, stopOnError, ack, firstId, after]) => {
    const calls = ops.map((o, i): EncodedCall => ({
      ...encodeCall(o),
      requestId: firstId + i,
    }));
    return batchFrame(calls, stopOnError, ack, after);
  });

const sint32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const requestId = fc.oneof(u64.map(String), fc.constant("18446744073709551615"));
const result = fc.oneof(
  fc.record({ requestId, sendv: fc.record({ ret: sint32 }) }),
  fc.record({ requestId, writeMemory: fc.record({ ret: sint32 }) }),
  fc.record({ requestId, registerRing: fc.record({ ret: sint32 }) }),
  fc.record({ requestId, unregisterRing: fc.record({ ret: sint32 }) }),
  fc.record({
    requestId,
    readMemory: fc.record({ ret: sint32, data: bytes.map((b) => Buffer.from(b)) }),
  }),
  fc.record({ requestId, status: fc.record({ code: u32, message: fc.string({ maxLength: 40 }) }) }),
  fc.record({
    requestId,
    notify: fc.record({
      ret: sint32,
      entries: fc.array(fc.record({ flags: u32, maxMessageSize: u32 }), { maxLength: 3 }),
    }),
  }),
  fc.record({
    requestId,
    getDomainInfo: fc.record({
      domid: u32,
      memoryBytes: u64.map(String),
      pageSize: u32,
      label: fc.string({ maxLength: 10 }),
    }),
  }),
  fc.record({ requestId }),
);

const reply: fc.Arbitrary<SessionResponse> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ results: fc.record({ results: fc.array(result, { maxLength: 10 }) }) }),
  },
  fc.record({
    ready: fc.record({
      domid: u32,
      lastExecuted: u64.map(String),
      resumeWindow: u32,
      maxBatch: u32,
    }),
  }),
  fc.record({ event: fc.record({ virq: fc.record({ virq: u32 }) }) }),
  fc.constant({}),
);

/** The decoded value, or the fact that decoding threw. */
function outcome<T>(decode: () => T): { value: T } | { threw: true } {
  try {
    return { value: decode() };
  } catch {
    return { threw: true };
  }
}

describe("the Session frame hand codec", () => {
  it("a batch or open frame encoded by hand decodes, by proto-loader, to what its own encoding decodes to (property)", () => {
    const seed = propertySeed("session frame encode");
    const frame = fc.oneof(batch, u64.map(openFrame));
    fc.assert(
      fc.property(frame, (f) => {
        const ours = session.requestDeserialize(encodeSessionFrame(f));
        const theirs = session.requestDeserialize(session.requestSerialize(f));
        assert.deepStrictEqual(ours, theirs);
      }),
      { seed, numRuns: 400 },
    );
  });

  it("u64s beyond 2^53, multi-byte lengths and base64 data encode as proto-loader encodes them", () => {
    const big = "18446744073709551615";
    const frame: SessionFrame = {
      batch: {
        calls: [
          { requestId: big, readMemory: { gpa: "9007199254740993", length: 0xffffffff } },
          { requestId: "1", writeMemory: { gpa: big, data: Buffer.alloc(70_000, 7) } },
          { requestId: "2", writeMemory: { gpa: "0", data: "aGVsbG8=" } },
          { requestId: "3", registerRing: { aport: 1, len: 4096, gfns: [big, "0", "5"] } },
          { requestId: "4", notify: { ringData: { entries: [] } } },
          { requestId: "5", sendv: { iovs: [{ gpa: big, len: 1 }, {}], messageType: 0x7ff4 } },
        ],
        stopOnError: true,
        ackThrough: big,
      },
    };
    const ours = session.requestDeserialize(encodeSessionFrame(frame));
    assert.deepStrictEqual(ours, session.requestDeserialize(session.requestSerialize(frame)));
    assert.equal(ours.batch?.calls[1]?.writeMemory?.data.length, 70_000);
  });

  it("any reply decodes by hand to exactly proto-loader's object (property)", () => {
    const seed = propertySeed("session reply decode");
    fc.assert(
      fc.property(reply, (r) => {
        const wire = session.responseSerialize(r);
        assert.deepStrictEqual(decodeReply(wire), session.responseDeserialize(wire));
      }),
      { seed, numRuns: 400 },
    );
  });

  it("damaged reply bytes decode as proto-loader decodes them, or fail where it fails (property)", () => {
    const seed = propertySeed("session reply damaged");
    const damaged = fc
      .tuple(
        reply,
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        fc.nat(),
      )
      .map(([r, flips, cut]) => {
        const wire = Buffer.from(session.responseSerialize(r));
        for (const [at, value] of flips) if (wire.length > 0) wire[at % wire.length] = value;
        return wire.subarray(0, wire.length - (cut % 3 === 0 ? cut % Math.max(1, wire.length) : 0));
      });
    fc.assert(
      fc.property(damaged, (wire) => {
        assert.deepStrictEqual(
          outcome(() => decodeReply(wire)),
          outcome(() => session.responseDeserialize(wire)),
        );
      }),
      { seed, numRuns: 1000 },
    );
  });

  it("a results frame of sendv and read results is decoded by hand, not by proto-loader", () => {
    let wholeCalls = 0;
    const decode = sessionReplyDecoder((b) => {
      wholeCalls++;
      return session.responseDeserialize(b);
    });
    const wire = session.responseSerialize({
      results: {
        results: [
          { requestId: "7", sendv: { ret: 64 } },
          { requestId: "8", readMemory: { ret: 0, data: Buffer.from("ring") } },
        ],
      },
    });
    const frame = decode(wire);
    assert.equal(wholeCalls, 0, "the hot frame took the fallback");
    assert.deepStrictEqual(frame, session.responseDeserialize(wire));
    decode(session.responseSerialize({ event: { deviceAdded: { devIndex: 1 } } }));
    assert.equal(wholeCalls, 1, "a device event frame is proto-loader's");
  });
});
