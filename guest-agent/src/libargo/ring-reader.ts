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
 * instead of a fresh copy (no allocation per message on the receive path). Headers and the
 * payloads that no one span holds (a wrapping one) are read from the spans too, and from
 * `ring` only where no span has the bytes: so a caller whose spans cover everything it fetched
 * need not copy them into the image first (a 1 MiB message that wraps was copied twice).
 */
import {
  ARGO_MIN_RING_LEN,
  ARGO_MSG_HEADER_SIZE,
  ARGO_MSG_SLOT_SIZE,
  MSG_LEN_OFFSET,
  MSG_SOURCE_APORT_OFFSET,
  MSG_SOURCE_DOMID_OFFSET,
  MSG_TYPE_OFFSET,
  ringBytesAvailable,
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
   * `len` bytes long; only the bytes in [rx, tx) (mod len) are looked at. Empty when `spans`
   * hold every byte the reader will look at (up to `limit`); a byte in neither is a RangeError.
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
   * Immutable buffers holding ring bytes [at, at + data.length) (never wrapping, not
   * overlapping). Where a span holds a byte it is read from the span and `ring` is not looked
   * at, so `ring` need only hold the bytes no span has. A payload entirely inside one span is
   * returned as a view of it.
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

/** Whether `ptr` can be a ring pointer of a ring of `len` bytes (16-aligned, below `len`). */
export function isValidPtr(len: number, ptr: number): boolean {
  return Number.isInteger(ptr) && ptr >= 0 && ptr < len && ptr % ARGO_MSG_SLOT_SIZE === 0;
}

/** Parses every complete message in [rx, tx), in ring order (argo-spec §4.6). */
export function readRing(input: RingReadInput): RingReadResult {
  const { len, txPtr, ring } = input;
  if (!Number.isInteger(len) || len < ARGO_MIN_RING_LEN || len % ARGO_MSG_SLOT_SIZE !== 0) {
    throw new RangeError(`ring len must be a multiple of 16 and >= 48, got ${len}`);
  }
  if (ring.length < len && !(ring.length === 0 && input.spans !== undefined)) {
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
    const hdr = headerView(ring, view, spans, rx);
    const hdrLen = hdr.view.getUint32(hdr.at + MSG_LEN_OFFSET, true);
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
      aport: hdr.view.getUint32(hdr.at + MSG_SOURCE_APORT_OFFSET, true),
      domainId: hdr.view.getUint16(hdr.at + MSG_SOURCE_DOMID_OFFSET, true),
    };
    const messageType = hdr.view.getUint32(hdr.at + MSG_TYPE_OFFSET, true);
    const payloadLen = hdrLen - ARGO_MSG_HEADER_SIZE;
    let start = rx + ARGO_MSG_HEADER_SIZE;
    if (start === len) start = 0;
    let data: Buffer;
    if (start + payloadLen <= len) {
      const span = spanHolding(spans, start, payloadLen);
      if (span === undefined) {
        data = Buffer.allocUnsafe(payloadLen);
        gather(ring, spans, start, payloadLen, data, 0);
      } else data = span.data.subarray(start - span.at, start - span.at + payloadLen);
    } else {
      // The payload wraps: tail of the ring, then its head (§4.3 step 7 wrote it that way).
      const head = len - start;
      data = Buffer.allocUnsafe(payloadLen);
      gather(ring, spans, start, head, data, 0);
      gather(ring, spans, 0, payloadLen - head, data, head);
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

/** A message header's bytes: header byte `offset` is `view`'s byte `at + offset`. */
interface HeaderView {
  readonly view: DataView;
  readonly at: number;
}

/** The 16 header bytes at ring offset `rx`: in the span that holds them, else gathered. */
function headerView(
  ring: Uint8Array,
  ringView: DataView,
  spans: readonly RingSpan[],
  rx: number,
): HeaderView {
  const span = spanHolding(spans, rx, ARGO_MSG_HEADER_SIZE);
  if (span !== undefined) {
    const d = span.data;
    return { view: new DataView(d.buffer, d.byteOffset, d.byteLength), at: rx - span.at };
  }
  if (!spans.some((sp) => sp.at < rx + ARGO_MSG_HEADER_SIZE && sp.at + sp.data.length > rx))
    return { view: ringView, at: rx };
  const bytes = Buffer.allocUnsafe(ARGO_MSG_HEADER_SIZE);
  gather(ring, spans, rx, ARGO_MSG_HEADER_SIZE, bytes, 0);
  return { view: new DataView(bytes.buffer, bytes.byteOffset, ARGO_MSG_HEADER_SIZE), at: 0 };
}

/**
 * Copies ring bytes [start, start + length) (not wrapping) into `out` at `outAt`: each byte
 * from the span holding it, or from `ring` where none does.
 */
function gather(
  ring: Uint8Array,
  spans: readonly RingSpan[],
  start: number,
  length: number,
  out: Buffer,
  outAt: number,
): void {
  let at = start;
  const end = start + length;
  // Bounded: every turn copies at least one byte.
  while (at < end) {
    const span = spans.find((sp) => at >= sp.at && at < sp.at + sp.data.length);
    if (span !== undefined) {
      const n = Math.min(end, span.at + span.data.length) - at;
      out.set(span.data.subarray(at - span.at, at - span.at + n), outAt + at - start);
      at += n;
    } else {
      // Up to the next span that starts inside the range, or the end.
      let next = end;
      for (const sp of spans) if (sp.at > at && sp.at < next) next = sp.at;
      if (next > ring.length)
        throw new RangeError(`ring bytes [${at}, ${next}) are in no span and not in the image`);
      out.set(ring.subarray(at, next), outAt + at - start);
      at = next;
    }
  }
}
