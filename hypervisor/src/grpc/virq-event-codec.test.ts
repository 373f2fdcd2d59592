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
import { writeVirqEventFrame, writeVirqSpansFrame } from "./virq-event-codec.js";
import { ARGO_RING_HEADER_SIZE, PAGE_SIZE } from "@hmx/proto/abi";
import { copyOutOfRing, type RingBuffer } from "../argo/ring-buffer.js";
import type { VirqRingSpan } from "./virq-ring-data.js";
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

  it("an event of ring spans is the frame of the same rings with their bytes copied out (property)", () => {
    // Rings of 1–3 pages with random bytes; each span starts on a 16-byte slot and may run to
    // the ring's end, page boundaries included, as virqRingSpans cuts them.
    const ringArb = fc
      .integer({ min: 1, max: 3 })
      .chain((pages) =>
        fc.record({
          pages: fc.constant(pages),
          seed: fc.integer(),
          len: fc.integer({ min: 3, max: (pages * PAGE_SIZE - ARGO_RING_HEADER_SIZE) >> 4 }),
        }),
      )
      .chain(({ pages, seed, len }) =>
        fc.record({
          pages: fc.constant(pages),
          seed: fc.constant(seed),
          len: fc.constant(len << 4),
          at: fc.integer({ min: 0, max: len - 1 }).map((slot) => slot << 4),
          take: fc.nat({ max: len << 4 }),
          aport: u32,
          partnerId: u32,
          txPtr: u32,
        }),
      );
    fc.assert(
      fc.property(u32, fc.array(ringArb, { maxLength: 3 }), (virqNo, specs) => {
        const spans: VirqRingSpan[] = specs.map((r) => {
          const pages = Array.from({ length: r.pages }, (_, i) =>
            Buffer.from(
              Array.from({ length: PAGE_SIZE }, (_, j) => (r.seed + i * 31 + j * 7) & 0xff),
            ),
          );
          const ring: RingBuffer = { len: r.len, pages, txPtr: r.txPtr };
          const length = Math.min(r.take, r.len - r.at);
          return {
            ring,
            aport: r.aport,
            partnerId: r.partnerId,
            len: r.len,
            txPtr: r.txPtr,
            at: r.at,
            length,
          };
        });
        const copied: Virq = {
          virq: virqNo,
          rings: spans.map((s) => ({
            aport: s.aport,
            partnerId: s.partnerId,
            len: s.len,
            txPtr: s.txPtr,
            at: s.at,
            data: s.length > 0 ? copyOutOfRing(s.ring, s.at, s.length) : Buffer.alloc(0),
          })),
        };
        assert.deepStrictEqual(writeVirqSpansFrame(virqNo, spans), writeVirqEventFrame(copied));
      }),
      { seed, numRuns: 300 },
    );
  });

  it("ring data given as base64 text is left to proto-loader", () => {
    const frame = { event: { virq: { virq: 11, rings: [{ aport: 1, data: "bXNn" }] } } };
    assert.equal(writeVirqEventFrame(frame.event.virq), undefined);
    assert.deepStrictEqual(encodeResponse(frame), session.responseSerialize(frame));
  });
});
