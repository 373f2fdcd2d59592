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
 *
 * Each byte is pushed once per Session (`PushCursors`): an event carries a ring's bytes from
 * where that Session's previous event for the ring stopped, not from rx_ptr. Copying from rx
 * sent again, with every event, whatever the guest had not yet consumed or published, which
 * under a stream of large messages was most of the ring each time; from the cursor, a stream's
 * bytes cross the Session once, and the guest, which keeps what it was pushed
 * (guest-agent rx-ring.ts), reads nothing back. A cursor that rx_ptr overtook, or that the ring
 * no longer holds (re-registered onto other pages), starts again from rx_ptr.
 */
import * as grpc from "@grpc/grpc-js";
import type { VirqRingData__Output as VirqRingData } from "@hmx/proto/gen/hmx/argo/v1/VirqRingData.js";
import { copyOutOfRing, sanitizedRxPtr, type RingBuffer } from "../argo/ring-buffer.js";
import type { Domain } from "../domain/domain.js";
import { VIRQ_RING_BYTES_MAX } from "@hmx/proto";
import { ringBytesAvailable } from "@hmx/proto/abi";
import { GrpcError } from "./auth.js";

/** The Session's limit (@hmx/proto); one VIRQ per Session is in the transport (BackpressuredWatcher). */
export { VIRQ_RING_BYTES_MAX };

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

/** Where one Session's pushed bytes of each ring end (module comment). */
export class PushCursors {
  readonly #through = new WeakMap<RingBuffer, { pages: readonly Buffer[]; at: number }>();

  /**
   * Where the next push of `ring` starts: the cursor while it lies in [rx, tx] of the pages it
   * was taken from, else rx.
   */
  start(ring: RingBuffer, rx: number, tx: number): number {
    const cursor = this.#through.get(ring);
    if (cursor?.pages !== ring.pages) return rx;
    const ahead = ringBytesAvailable(ring.len, rx, cursor.at);
    return ahead <= ringBytesAvailable(ring.len, rx, tx) ? cursor.at : rx;
  }

  /** The bytes up to `at` (a ring offset; the ring's length counts as 0) were pushed. */
  pushed(ring: RingBuffer, at: number): void {
    this.#through.set(ring, { pages: ring.pages, at: at === ring.len ? 0 : at });
  }
}

/**
 * One ring's entry of a VIRQ event, its bytes (`length` of them from ring offset `at`) still in
 * the ring: the Session's frame writer copies them once, straight into the frame
 * (virq-event-codec.ts `writeVirqSpansFrame`), instead of out into a Buffer and then again into
 * the frame.
 */
export interface VirqRingSpan {
  readonly ring: RingBuffer;
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly txPtr: number;
  readonly at: number;
  readonly length: number;
}

/**
 * Every ring of `domain` with unread data, each with up to what is left of `budget` of its
 * bytes: from rx, or, with `cursors`, from where the previous event for this Session stopped
 * (see the module comment). Marks the spans pushed: the caller sends them now.
 */
export function virqRingSpans(
  domain: Domain,
  budget: number,
  cursors?: PushCursors,
): VirqRingSpan[] {
  const rings = domain.argo?.rings;
  const out: VirqRingSpan[] = [];
  if (rings === undefined) return out;
  let left = budget;
  for (const ring of rings.values()) {
    if (ring.len === 0) continue; // torn down
    const rx = sanitizedRxPtr(ring);
    const tx = ring.txPtr;
    if (rx === tx) continue;
    const at = cursors?.start(ring, rx, tx) ?? rx;
    const length = at === tx ? 0 : Math.min(left, (tx > at ? tx : ring.len) - at);
    left -= length;
    if (length > 0) cursors?.pushed(ring, at + length);
    out.push({
      ring,
      aport: ring.aport,
      partnerId: ring.partnerId,
      len: ring.len,
      txPtr: tx,
      at,
      length,
    });
  }
  return out;
}

/** `virqRingSpans` as proto messages, each span's bytes copied out (the in-process client's). */
export function virqRingData(
  domain: Domain,
  budget: number,
  cursors?: PushCursors,
): VirqRingData[] {
  return virqRingSpans(domain, budget, cursors).map(({ ring, length, ...entry }) => ({
    ...entry,
    data: length > 0 ? copyOutOfRing(ring, entry.at, length) : Buffer.alloc(0),
  }));
}
