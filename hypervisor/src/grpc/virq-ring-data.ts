// SPDX-License-Identifier: Apache-2.0
/**
 * The ring data a Session's VIRQ event carries (hypervisor.proto `Virq.rings`), for a guest that
 * asked for it in its `SessionOpen`. Without it, a guest learns of a message in four hops: the
 * VIRQ, then a multicall of its own that reads tx_ptr and the new bytes, and that multicall's
 * reply. In Xen the second and third are loads from the guest's local memory; here its memory
 * lives in this process, so the event takes a copy of what the guest would read next.
 *
 * The copy is taken when the event is delivered, after the sendvs that raised it: every byte
 * in [rx_ptr, tx_ptr) was written before tx_ptr was published (argo-spec §4.3 step 9) and stays
 * put until the guest moves rx_ptr past it, so the copy is exactly what the guest's own read
 * would return. Every ring with unread data is listed (its tx_ptr, at least), so the guest can
 * skip the rings not listed; the bytes stop at the end of the ring (never wrapping) and at the
 * session's budget, after which entries carry no data and the guest reads the rest itself.
 */
import * as grpc from "@grpc/grpc-js";
import type { VirqRingData__Output as VirqRingData } from "@hmx/proto/gen/hmx/argo/v1/VirqRingData.js";
import { copyOutOfRing, sanitizedRxPtr } from "../argo/ring-buffer.js";
import type { Domain } from "../domain/domain.js";
import { GrpcError } from "./auth.js";

/** Most ring bytes one VIRQ event may carry: enough for a burst of small messages. */
export const VIRQ_RING_BYTES_MAX = 64 * 1024;

/** A `SessionOpen.virq_ring_bytes`, checked: refused beyond VIRQ_RING_BYTES_MAX. */
export function checkVirqRingBytes(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > VIRQ_RING_BYTES_MAX) {
    throw new GrpcError(
      grpc.status.INVALID_ARGUMENT,
      `virq_ring_bytes ${value} exceeds the limit of ${VIRQ_RING_BYTES_MAX}`,
    );
  }
  return value;
}

/**
 * Every ring of `domain` with unread data, each with up to what is left of `budget` of its
 * bytes from rx_ptr (see the module comment).
 */
export function virqRingData(domain: Domain, budget: number): VirqRingData[] {
  const rings = domain.argo?.rings;
  const out: VirqRingData[] = [];
  if (rings === undefined) return out;
  let left = budget;
  for (const ring of rings.values()) {
    if (ring.len === 0) continue; // torn down
    const rx = sanitizedRxPtr(ring);
    const tx = ring.txPtr;
    if (rx === tx) continue;
    const length = Math.min(left, (tx > rx ? tx : ring.len) - rx);
    left -= length;
    out.push({
      aport: ring.aport,
      partnerId: ring.partnerId,
      len: ring.len,
      txPtr: tx,
      at: rx,
      data: length > 0 ? copyOutOfRing(ring, rx, length) : Buffer.alloc(0),
    });
  }
  return out;
}
