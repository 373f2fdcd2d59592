// SPDX-License-Identifier: Apache-2.0
/**
 * Tests of the Session wire codec: u64 range checks in both directions, u32 checks (no silent
 * wrap), Xen's NULL vs empty notify ring data, and result-to-outcome mapping.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import {
  WireDecodeError,
  decodeOutcome,
  decodeReady,
  encodeCall,
  isFailure,
  parseU64,
  type WireResult,
} from "./wire-codec.js";

describe("parseU64", () => {
  it("accepts decimal u64 strings up to 2^53-1", () => {
    assert.equal(parseU64("0", "x"), 0);
    assert.equal(parseU64("42", "x"), 42);
    assert.equal(parseU64("999999999999999", "x"), 999_999_999_999_999);
    assert.equal(parseU64("9007199254740991", "x"), Number.MAX_SAFE_INTEGER);
  });

  it("rejects values above 2^53-1 instead of rounding them", () => {
    assert.throws(() => parseU64("9007199254740992", "x"), WireDecodeError);
    assert.throws(() => parseU64("18446744073709551615", "x"), WireDecodeError);
  });

  it("rejects anything that is not a plain decimal", () => {
    for (const bad of ["", "-1", "1e3", "0x10", " 1", "12a", "123456789012345678901"]) {
      assert.throws(() => parseU64(bad, "x"), WireDecodeError, bad);
    }
  });
});

describe("encodeCall", () => {
  it("keeps gpa and gfns as the checked numbers", () => {
    const read = encodeCall({ op: "readMemory", gpa: 0x10000, length: 16 });
    assert.deepEqual(read.readMemory, { gpa: 65536, length: 16 });
    const reg = encodeCall({
      op: "registerRing",
      aport: 1,
      partnerId: 0x7ff4,
      len: 4016,
      gfns: [16, 17],
      flags: 0,
    });
    assert.deepEqual(reg.registerRing?.gfns, [16, 17]);
  });

  it("rejects a gpa that is negative, fractional or beyond 2^53", () => {
    for (const gpa of [-1, 1.5, 2 ** 53]) {
      assert.throws(() => encodeCall({ op: "readMemory", gpa, length: 1 }), RangeError);
    }
  });

  it("rejects a u32 field out of range rather than letting it wrap", () => {
    const src = { aport: 1, domainId: 0x7ff4 };
    const dst = { aport: 1, domainId: 2 ** 32 + 0x7ff4 };
    assert.throws(
      () => encodeCall({ op: "sendv", src, dst, iovs: [], messageType: 0 }),
      RangeError,
    );
    assert.throws(() => encodeCall({ op: "unregisterRing", aport: -1, partnerId: 0 }), RangeError);
  });

  it("keeps Xen's NULL ring data apart from an empty list", () => {
    assert.deepEqual(encodeCall({ op: "notify", ringData: null }).notify, {});
    assert.deepEqual(encodeCall({ op: "notify", ringData: [] }).notify, {
      ringData: { entries: [] },
    });
  });
});

describe("decodeOutcome", () => {
  const result = (r: Partial<WireResult>): WireResult => ({ requestId: "1", ...r });

  it("maps each result kind to the call's outcome", () => {
    assert.deepEqual(decodeOutcome(result({ outcome: "sendv", sendv: { ret: -11 } }), "sendv"), {
      op: "sendv",
      ret: -11,
    });
    assert.deepEqual(
      decodeOutcome(
        result({
          outcome: "notify",
          notify: { ret: 0, entries: [{ flags: 9, maxMessageSize: 4064 }] },
        }),
        "notify",
      ),
      { op: "notify", ret: 0, entries: [{ flags: 9, maxMessageSize: 4064 }] },
    );
    assert.deepEqual(
      decodeOutcome(
        result({
          outcome: "getDomainInfo",
          getDomainInfo: { domid: 3, memoryBytes: "1048576", pageSize: 4096, label: "a" },
        }),
        "getDomainInfo",
      ),
      {
        op: "getDomainInfo",
        ret: 0,
        info: { domid: 3, memoryBytes: 1_048_576, pageSize: 4096, label: "a" },
      },
    );
  });

  it("passes a status through as the call's outcome", () => {
    const o = decodeOutcome(
      result({ outcome: "status", status: { code: 9, message: "forgotten" } }),
      "sendv",
    );
    assert.deepEqual(o, { op: "status", code: 9, message: "forgotten" });
    assert.equal(isFailure(o), true);
  });

  it("turns a result of the wrong kind into status INTERNAL", () => {
    const o = decodeOutcome(result({ outcome: "sendv", sendv: { ret: 0 } }), "notify");
    assert.ok(o.op === "status");
    assert.equal(o.code, status.INTERNAL);
  });

  it("turns an out-of-range memoryBytes into status INTERNAL", () => {
    const o = decodeOutcome(
      result({
        outcome: "getDomainInfo",
        getDomainInfo: { domid: 3, memoryBytes: "18446744073709551615", pageSize: 4096, label: "" },
      }),
      "getDomainInfo",
    );
    assert.equal(o.op, "status");
  });
});

describe("decodeReady", () => {
  it("range-checks lastExecuted and passes dependent_batches on", () => {
    assert.deepEqual(
      decodeReady({
        kind: "ready",
        ready: {
          domid: 5,
          lastExecuted: "41",
          resumeWindow: 8,
          maxBatch: 4,
          virqRingBytes: 0,
          dependentBatches: true,
        },
      }),
      {
        domid: 5,
        lastExecuted: 41,
        resumeWindow: 8,
        maxBatch: 4,
        virqRingBytes: 0,
        dependentBatches: true,
      },
    );
    assert.throws(
      () =>
        decodeReady({
          kind: "ready",
          ready: {
            domid: 5,
            lastExecuted: "18446744073709551615",
            resumeWindow: 8,
            maxBatch: 4,
            virqRingBytes: 0,
            dependentBatches: false,
          },
        }),
      WireDecodeError,
    );
  });
});
