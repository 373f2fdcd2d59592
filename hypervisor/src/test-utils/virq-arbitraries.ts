// SPDX-License-Identifier: Apache-2.0
/**
 * fast-check arbitraries for a VIRQ event's parts, shared by the two hand codecs' property tests:
 * the hypervisor's encoder (grpc/virq-event-codec.test.ts) and the guest's decoder
 * (guest-agent hypercall/event-frame-codec.test.ts), so both are held to the same inputs.
 */
import fc from "fast-check";

/** A uint32 field: the edges (0, 1, a page, the maximum) often, any other value too. */
export const u32 = fc.oneof(
  fc.constantFrom(0, 1, 11, 4096, 0xffffffff),
  fc.nat({ max: 0xffffffff }),
);

/** One ring of a VIRQ, any field absent or set, with up to 200 bytes of ring data. */
export const virqRing = fc.record(
  {
    aport: u32,
    partnerId: u32,
    len: u32,
    txPtr: u32,
    at: u32,
    data: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  },
  { requiredKeys: [] },
);
