// SPDX-License-Identifier: Apache-2.0
/**
 * Session frames decoded a call at a time (lazy-batch.ts) read exactly as proto-loader's
 * whole-frame decode, and a malformed frame is still refused whole, naming what is wrong.
 * Random batches are bounded by count; the seed is printed (replay with HMX_TEST_SEED).
 */
import { loadHypervisorProto } from "@hmx/proto";
import type { Hypercall } from "@hmx/proto/gen/hmx/argo/v1/Hypercall.js";
import type { SessionRequest } from "@hmx/proto/gen/hmx/argo/v1/SessionRequest.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../faults/seeded-random.js";
import { DecodeError } from "./codec.js";
import { decodeCall, guestServiceDefinition } from "./lazy-batch.js";

const RUNS = 200;
const whole = loadHypervisorProto().hmx.argo.v1.Hypervisor.service.Session;
const lazy = guestServiceDefinition().Session;

function encode(frame: SessionRequest): Buffer {
  return whole.requestSerialize(frame);
}

/** A random call of every kind, with 64-bit fields near their limits now and then. */
function randomCall(random: () => number): Hypercall {
  const u32 = () => Math.floor(random() * 2 ** 32);
  // 2^49 - 1 and 2^49 are the last 7-byte and first 8-byte varints: the number path's edge.
  const edges = ["18446744073709551615", "562949953421311", "562949953421312", "9007199254740993"];
  const u64 = () =>
    random() < 0.2
      ? (edges[Math.floor(random() * edges.length)] ?? "0")
      : String(u32() * 1000 + u32());
  const requestId = random() < 0.1 ? "0" : u64();
  const addr = () => ({ aport: u32(), domainId: Math.floor(random() * 0x7ff5) });
  switch (Math.floor(random() * 5)) {
    case 0:
      return { requestId, readMemory: { gpa: u64(), length: u32() } };
    case 1:
      return {
        requestId,
        writeMemory: { gpa: u64(), data: Buffer.alloc(Math.floor(random() * 300), u32() & 0xff) },
      };
    case 2:
      return {
        requestId,
        notify: {
          ringData: {
            entries: Array.from({ length: Math.floor(random() * 8) }, () => ({
              ring: addr(),
              spaceRequired: u32(),
            })),
          },
        },
      };
    case 3:
      return { requestId, getDomainInfo: {} };
    default:
      return {
        requestId,
        sendv: {
          src: addr(),
          dst: addr(),
          messageType: u32(),
          iovs: [{ gpa: u64(), len: u32() }],
        },
      };
  }
}

test("a batch decoded a call at a time gives every call, its request id and the batch fields exactly as a whole decode", () => {
  const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`lazy-batch seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
  const random = seededRandom(seed);
  for (let run = 0; run < RUNS; run++) {
    const frame: SessionRequest = {
      batch: {
        calls: Array.from({ length: Math.floor(random() * 12) }, () => randomCall(random)),
        stopOnError: random() < 0.5,
        ackThrough: String(Math.floor(random() * 2 ** 40)),
        // Absent (0) now and then, as most batches send it.
        after: random() < 0.3 ? "0" : String(Math.floor(random() * 2 ** 40)),
      },
    };
    const bytes = encode(frame);
    const expected = whole.requestDeserialize(bytes);
    const got = lazy.requestDeserialize(bytes) as unknown as {
      kind: string;
      batch: {
        calls: { bytes: Buffer; requestId: string }[];
        stopOnError: boolean;
        ackThrough: string;
        after: string;
      };
    };
    assert.equal(got.kind, "batch");
    assert.equal(got.batch.stopOnError, expected.batch?.stopOnError, `run ${run}`);
    assert.equal(got.batch.ackThrough, expected.batch?.ackThrough, `run ${run}`);
    assert.equal(got.batch.after, expected.batch?.after, `run ${run}`);
    assert.equal(got.batch.calls.length, expected.batch?.calls.length, `run ${run}`);
    got.batch.calls.forEach((call, i) => {
      const want = expected.batch?.calls[i];
      assert.equal(call.requestId, want?.requestId, `run ${run} call ${i}: request id`);
      assert.deepEqual(decodeCall(call), want, `run ${run} call ${i}`);
    });
  }
});

test("an open frame decodes whole as before, and a frame holding a batch and an open is a batch, as proto-loader names it", () => {
  const open = encode({ open: { ackThrough: "42" } });
  assert.deepEqual(lazy.requestDeserialize(open), whole.requestDeserialize(open));
  const both = Buffer.concat([encode({ batch: { calls: [{ requestId: "1" }] } }), open]);
  assert.equal(whole.requestDeserialize(both).kind, "batch");
  assert.equal(lazy.requestDeserialize(both).kind, "batch");
});

test("a frame cut short inside a call is refused before any call is decoded, naming the problem", () => {
  const bytes = encode({
    batch: { calls: [{ requestId: "1", readMemory: { gpa: "4096", length: 8 } }] },
  });
  // Drop the last byte but keep the batch length: its call now runs past the frame's end.
  const cut = bytes.subarray(0, bytes.length - 1);
  assert.throws(
    () => lazy.requestDeserialize(cut),
    (err: unknown) => err instanceof DecodeError && /past the end|truncated/.test(err.message),
  );
});

test("a call whose inner fields are malformed is a DecodeError naming its request id when decoded", () => {
  // request_id 7, then field 8 (notify) claiming 5 bytes that hold a truncated varint.
  const call = Buffer.from([0x08, 0x07, 0x42, 0x05, 0x0a, 0x03, 0x08, 0xff, 0xff]);
  assert.throws(
    () => decodeCall({ bytes: call, requestId: "7" }),
    (err: unknown) =>
      err instanceof DecodeError && err.message.includes("call 7 cannot be decoded"),
  );
});
