// SPDX-License-Identifier: Apache-2.0
/**
 * The hand decoder of VIRQ event frames against proto-loader's, on random frames (seeded,
 * bounded): an event frame, with or without ring data, decodes to exactly proto-loader's
 * object, and damaged bytes decode as proto-loader decodes them or fail where it fails.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadHypervisorProto } from "@hmx/proto";
import { propertySeed } from "@hmx/virtio/test-utils";
import { u32, virqRing as ring } from "@hmx/hypervisor/test-utils/virq-arbitraries";
import type { SessionResponse } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";
import { sessionReplyDecoder } from "./session-frame-codec.js";

const session = loadHypervisorProto().hmx.argo.v1.Hypervisor.service.Session;

const device = fc.record({
  devIndex: u32,
  virtioDeviceId: u32,
  peerDomid: u32,
  role: u32,
  tableGeneration: u32,
});

const eventFrame: fc.Arbitrary<SessionResponse> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      event: fc.record({
        virq: fc.record(
          { virq: u32, rings: fc.array(ring, { maxLength: 4 }) },
          { requiredKeys: [] },
        ),
      }),
    }),
  },
  fc.record({ event: fc.record({ deviceAdded: device }) }),
  fc.record({ event: fc.record({ deviceRemoved: device }) }),
  fc.constant({ event: {} }),
);

/** The decoded value, or the fact that decoding threw. */
function outcome<T>(decode: () => T): { value: T } | { threw: true } {
  try {
    return { value: decode() };
  } catch {
    return { threw: true };
  }
}

/** The Session's reply decoder, counting the frames it left to proto-loader. */
function countingDecoder(): { decode: (b: Buffer) => unknown; readonly whole: number } {
  const counter = {
    whole: 0,
    decode: sessionReplyDecoder((b) => {
      counter.whole++;
      return session.responseDeserialize(b);
    }),
  };
  return counter;
}

describe("the VIRQ event frame hand decoder", () => {
  it("any event frame decodes to exactly proto-loader's object (property)", () => {
    const seed = propertySeed("virq event decode");
    fc.assert(
      fc.property(eventFrame, (frame) => {
        const wire = session.responseSerialize(frame);
        assert.deepStrictEqual(
          sessionReplyDecoder(session.responseDeserialize)(wire),
          session.responseDeserialize(wire),
        );
      }),
      { seed, numRuns: 500 },
    );
  });

  it("damaged event bytes decode as proto-loader decodes them, or fail where it fails (property)", () => {
    const seed = propertySeed("virq event damaged");
    const damaged = fc
      .tuple(
        eventFrame,
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        fc.nat(),
      )
      .map(([frame, flips, cut]) => {
        const wire = Buffer.from(session.responseSerialize(frame));
        // The first byte is left alone half the time, so most damage reaches the hand decoder.
        for (const [at, value] of flips) {
          if (wire.length > 1)
            wire[at % 2 === 0 ? 1 + (at % (wire.length - 1)) : at % wire.length] = value;
        }
        return wire.subarray(0, wire.length - (cut % 3 === 0 ? cut % Math.max(1, wire.length) : 0));
      });
    const decode = sessionReplyDecoder(session.responseDeserialize);
    fc.assert(
      fc.property(damaged, (wire) => {
        assert.deepStrictEqual(
          outcome(() => decode(wire)),
          outcome(() => session.responseDeserialize(wire)),
        );
      }),
      { seed, numRuns: 2000 },
    );
  });

  it("a VIRQ with ring data is decoded by hand; a device event is left to proto-loader", () => {
    const counter = countingDecoder();
    const wire = session.responseSerialize({
      event: {
        virq: {
          virq: 11,
          rings: [
            { aport: 7, partnerId: 2, len: 4096, txPtr: 96, at: 32, data: Buffer.from("msg") },
            { aport: 8, partnerId: 3, len: 8192, txPtr: 64 },
          ],
        },
      },
    });
    assert.deepStrictEqual(counter.decode(wire), session.responseDeserialize(wire));
    assert.equal(counter.whole, 0, "the VIRQ frame took the fallback");
    counter.decode(session.responseSerialize({ event: { deviceRemoved: { devIndex: 2 } } }));
    assert.equal(counter.whole, 1, "a device event frame is proto-loader's");
  });
});
