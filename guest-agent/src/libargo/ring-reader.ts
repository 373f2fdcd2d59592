// SPDX-License-Identifier: Apache-2.0
/**
 * The guest's ring reader, pure and without I/O: parses the complete messages between `rx_ptr`
 * and `tx_ptr` of a receive ring, per argo-spec §4.6 (the OpenXT Linux driver's
 * `_argo_copy_out`) and the ring layout of §2.3 and §4.1:
 *
 * - `bytes_to_read = (tx - rx) mod len`; under one 16-byte header there is nothing to read;
 * - the 16-byte header sits at `ring[rx]` and never wraps (rx is slot-aligned and len is a
 *   multiple of the slot), its `len` includes the header itself;
 * - the payload is `hdr.len - 16` bytes from `rx + 16`, wrapping at `len`;
 * - the next message starts at `ROUNDUP16(rx + hdr.len) mod len` (padding is skipped unread).
 *
 * A header whose `len` is below 16 or above the bytes available means the ring is corrupt (the
 * hypervisor publishes `tx_ptr` only after the data, §4.3 step 9, so a message is never seen
 * half-written). Recovery is Linux's `recover_ring`: set `rx = tx`, discarding everything
 * unread, and report it so that the caller can count and log it.
 *
 * Two additions serve a reader that fetches the ring in pieces (rx-ring.ts): `limit` says how
 * many bytes from rx the caller actually has, so a message that is complete in the ring but
 * not yet fetched ends the parse cleanly (rather than looking corrupt); and `spans` are the
 * fetched buffers themselves, so a payload that lies inside one is handed out as a view of it
 * instead of a fresh copy (no allocation per message on the receive path).
 */
import {
  ARGO_MIN_RING_LEN,
  ARGO_MSG_HEADER_SIZE,
  ARGO_MSG_SLOT_SIZE,
  MSG_LEN_OFFSET,
  MSG_SOURCE_APORT_OFFSET,
  MSG_SOURCE_DOMID_OFFSET,
  MSG_TYPE_OFFSET,
  roundUpToSlot,
} from "@hmx/proto/abi";
import type { ArgoAddr } from "../hypercall/hypercall-client.js";

/** One message taken from a ring: the source the hypervisor stamped, its type and payload. */
export interface RingMessage {
  /** Authenticated source domain (stamped by the hypervisor) and the sender-chosen aport. */
  readonly source: ArgoAddr;
  readonly messageType: number;
  /**
   * The payload. It never aliases the `ring` image (which the caller reuses); it is either a
   * copy or a view of one of the input's `spans`, which the caller guarantees nobody modifies.
   */
  readonly data: Buffer;
}

/** Why the reader gave up on the rest of the ring. */
export interface RingCorruption {
  readonly reason:
    "rx_ptr invalid" | "tx_ptr invalid" | "header len too small" | "header len too large";
  /** `rx_ptr` where the problem was found. */
  readonly rxPtr: number;
  readonly txPtr: number;
  /** The offending header `len`, when the header was the problem. */
  readonly headerLen?: number;
  /** Bytes thrown away by the recovery (0 when nothing could be recovered). */
  readonly discardedBytes: number;
}

export interface RingReadInput {
  /** Ring data length (`xen_argo_register_ring.len`): a multiple of 16, at least 48. */
  readonly len: number;
  /** The guest's `rx_ptr`. */
  readonly rxPtr: number;
  /** The hypervisor's `tx_ptr`. */
  readonly txPtr: number;
  /**
   * The ring data area (byte i = ring byte i, i.e. guest memory at ring gpa + 64 + i). At least
   * `len` bytes long; only the bytes in [rx, tx) (mod len) are looked at.
   */
  readonly ring: Uint8Array;
  /** Stop after this many messages (receive back-pressure); default unlimited. */
  readonly maxMessages?: number;
  /**
   * Bytes from rx that `ring` really holds (default: all of [rx, tx)). A message whose bytes
   * run past this is left unread, without being called corrupt: the caller has not fetched
   * it yet. Corruption is still judged against tx.
   */
  readonly limit?: number;
  /**
   * Immutable buffers holding ring bytes [at, at + data.length) (never wrapping), the same
   * bytes as `ring` there. A payload entirely inside one span is returned as a view of it.
   */
  readonly spans?: readonly RingSpan[];
}

/** Ring bytes [at, at + data.length) as fetched; see `RingReadInput.spans`. */
export interface RingSpan {
  readonly at: number;
  readonly data: Buffer;
}

export interface RingReadResult {
  readonly messages: RingMessage[];
  /** The `rx_ptr` to publish: past the last message taken, or `tx` after a recovery. */
  readonly rxPtr: number;
  /** Set when the ring was found corrupt; `rxPtr` then reflects the recovery. */
  readonly corruption: RingCorruption | null;
}

/** `(tx - rx) mod len`: ring bytes the reader has not consumed yet. */
export function ringBytesAvailable(len: number, rxPtr: number, txPtr: number): number {
  const d = txPtr - rxPtr;
  return d >= 0 ? d : d + len;
}

function isValidPtr(len: number, ptr: number): boolean {
  return Number.isInteger(ptr) && ptr >= 0 && ptr < len && ptr % ARGO_MSG_SLOT_SIZE === 0;
}

/** Parses every complete message in [rx, tx), in ring order (argo-spec §4.6). */
export function readRing(input: RingReadInput): RingReadResult {
  const { len, txPtr, ring } = input;
  if (!Number.isInteger(len) || len < ARGO_MIN_RING_LEN || len % ARGO_MSG_SLOT_SIZE !== 0) {
    throw new RangeError(`ring len must be a multiple of 16 and >= 48, got ${len}`);
  }
  if (ring.length < len) {
    throw new RangeError(`ring buffer holds ${ring.length} bytes, ring len is ${len}`);
  }
  const maxMessages = input.maxMessages ?? Number.POSITIVE_INFINITY;
  const messages: RingMessage[] = [];

  if (!isValidPtr(len, txPtr)) {
    // tx is the hypervisor's; a bad one leaves no safe place to recover to, so stay put and
    // let the caller report it (the next VIRQ may bring a sane value).
    return {
      messages,
      rxPtr: input.rxPtr,
      corruption: { reason: "tx_ptr invalid", rxPtr: input.rxPtr, txPtr, discardedBytes: 0 },
    };
  }
  let rx = input.rxPtr;
  if (!isValidPtr(len, rx)) {
    // Only the guest writes rx_ptr; a bad value means our own state is corrupt. recover_ring.
    return {
      messages,
      rxPtr: txPtr,
      corruption: { reason: "rx_ptr invalid", rxPtr: rx, txPtr, discardedBytes: 0 },
    };
  }

  const view = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
  const spans = input.spans ?? [];
  // Bytes from the input rx that the caller holds; `used` counts what has been parsed.
  const limit = input.limit ?? ringBytesAvailable(len, rx, txPtr);
  let used = 0;
  while (messages.length < maxMessages) {
    const available = ringBytesAvailable(len, rx, txPtr);
    // A header not fetched yet: stop here, nothing is wrong with the ring.
    if (available >= ARGO_MSG_HEADER_SIZE && used + ARGO_MSG_HEADER_SIZE > limit) break;
    // Both pointers are slot-aligned, so `available` is 0 or at least one header.
    if (available < ARGO_MSG_HEADER_SIZE) break;
    // The header never wraps: rx is 16-aligned and len is a multiple of 16, so rx + 16 <= len.
    const hdrLen = view.getUint32(rx + MSG_LEN_OFFSET, true);
    if (hdrLen < ARGO_MSG_HEADER_SIZE || hdrLen > available) {
      return {
        messages,
        rxPtr: txPtr,
        corruption: {
          reason: hdrLen < ARGO_MSG_HEADER_SIZE ? "header len too small" : "header len too large",
          rxPtr: rx,
          txPtr,
          headerLen: hdrLen,
          discardedBytes: available,
        },
      };
    }
    // Complete in the ring but not all fetched: leave it for the caller's next read.
    if (used + hdrLen > limit) break;
    const source: ArgoAddr = {
      aport: view.getUint32(rx + MSG_SOURCE_APORT_OFFSET, true),
      domainId: view.getUint16(rx + MSG_SOURCE_DOMID_OFFSET, true),
    };
    const messageType = view.getUint32(rx + MSG_TYPE_OFFSET, true);
    const payloadLen = hdrLen - ARGO_MSG_HEADER_SIZE;
    let start = rx + ARGO_MSG_HEADER_SIZE;
    if (start === len) start = 0;
    let data: Buffer;
    if (start + payloadLen <= len) {
      const span = spanHolding(spans, start, payloadLen);
      data =
        span === undefined
          ? Buffer.from(ring.subarray(start, start + payloadLen))
          : span.data.subarray(start - span.at, start - span.at + payloadLen);
    } else {
      // The payload wraps: tail of the ring, then its head (§4.3 step 7 wrote it that way).
      const head = len - start;
      data = Buffer.allocUnsafe(payloadLen);
      data.set(ring.subarray(start, len), 0);
      data.set(ring.subarray(0, payloadLen - head), head);
    }
    messages.push({ source, messageType, data });
    // hdrLen <= available < len, so rx + roundUp(hdrLen) < 2 * len: one subtraction reduces it.
    const next = roundUpToSlot(rx + hdrLen);
    used += next - rx;
    rx = next >= len ? next - len : next;
  }
  return { messages, rxPtr: rx, corruption: null };
}

/** The span holding ring bytes [start, start + length), if any. */
function spanHolding(
  spans: readonly RingSpan[],
  start: number,
  length: number,
): RingSpan | undefined {
  for (const span of spans) {
    if (start >= span.at && start + length <= span.at + span.data.length) return span;
  }
  return undefined;
}
