// SPDX-License-Identifier: Apache-2.0
/**
 * The hand-written VIRQ event frame against proto-loader's, on random events (seeded, bounded):
 * what the Session's serializer writes by hand decodes to what proto-loader's own encoding
 * decodes to.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadHypervisorProto } from "@hmx/proto";
import type { Virq } from "@hmx/proto/gen/hmx/argo/v1/Virq.js";
import { sessionResponseEncoder } from "./session-codec.js";
import { writeVirqEventFrame } from "./virq-event-codec.js";
import { u32, virqRing as ring } from "../test-utils/virq-arbitraries.js";

/** One seed for the file (HMX_TEST_SEED replays a failure), printed, as the other property tests. */
const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
console.log(
  `virq-event-codec properties: fast-check seed ${seed} (replay with HMX_TEST_SEED=${seed})`,
);

const session = loadHypervisorProto().hmx.argo.v1.Hypervisor.service.Session;
const encodeResponse = sessionResponseEncoder(session.responseSerialize);

const virq: fc.Arbitrary<Virq> = fc.record(
  { virq: u32, rings: fc.array(ring, { maxLength: 4 }) },
  { requiredKeys: [] },
);

describe("the hypervisor's VIRQ event frame by hand", () => {
  it("decodes to what proto-loader's encoding of the same event decodes to (property)", () => {
    fc.assert(
      fc.property(virq, (v) => {
        const frame = { event: { virq: v } };
        const ours = writeVirqEventFrame(v);
        assert.ok(ours !== undefined);
        assert.deepStrictEqual(encodeResponse(frame), ours, "the Session's serializer took it");
        assert.deepStrictEqual(
          session.responseDeserialize(ours),
          session.responseDeserialize(session.responseSerialize(frame)),
        );
      }),
      { seed, numRuns: 500 },
    );
  });

  it("ring data given as base64 text is left to proto-loader", () => {
    const frame = { event: { virq: { virq: 11, rings: [{ aport: 1, data: "bXNn" }] } } };
    assert.equal(writeVirqEventFrame(frame.event.virq), undefined);
    assert.deepStrictEqual(encodeResponse(frame), session.responseSerialize(frame));
  });
});
