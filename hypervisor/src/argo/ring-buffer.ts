// SPDX-License-Identifier: Apache-2.0
/**
 * Pure ring arithmetic over a ring's pinned pages (argo-spec §4), mirroring argo.c
 * `get_sanitized_ring`, `ringbuf_payload_space`, `ringbuf_insert`, `memcpy_to_guest_ring` and
 * `update_tx_ptr`, plus the tx_ptr initialisation of `register_ring`. Byte `i` of the ring
 * lives at byte `64 + i` of the concatenated pages. The guest owns rx_ptr (so it is read and
 * sanitised on every use); the hypervisor owns tx_ptr (a private copy, published to the guest
 * header only after the data). No function here allocates.
 */
import {
  ARGO_MSG_HEADER_SIZE,
  ARGO_RING_HEADER_SIZE,
  Errno,
  MSG_LEN_OFFSET,
  MSG_SOURCE_APORT_OFFSET,
  MSG_SOURCE_DOMID_OFFSET,
  MSG_SOURCE_PAD_OFFSET,
  MSG_TYPE_OFFSET,
  PAGE_SHIFT,
  PAGE_SIZE,
  RING_RX_PTR_OFFSET,
  RING_TX_PTR_OFFSET,
  ringPayloadSpace,
} from "@hmx/proto/abi";

import type { GuestMemory } from "../memory/guest-memory.js";
import type { Iov } from "./types.js";

/** What the ring arithmetic needs of a ring. */
export interface RingBuffer {
  /** Ring data bytes: a multiple of 16 in [48, 0xFFFFC0]. */
  readonly len: number;
  /** `NPAGES_RING(len)` pinned pages; page 0 starts with the 64-byte ring header. */
  readonly pages: readonly Buffer[];
  /** The hypervisor's private tx_ptr: 16-aligned and < len. */
  txPtr: number;
}

const PAGE_MASK = PAGE_SIZE - 1;

/** The page holding ring byte `ringOffset`, or a thrown invariant violation (never a guest error). */
function pageAt(pages: readonly Buffer[], index: number): Buffer {
  const page = pages[index];
  if (page === undefined)
    throw new Error(`ring page ${index} missing: pinned page count inconsistent`);
  return page;
}

/**
 * Rounds a guest u32 up to the 16-byte slot with u32 wrap-around, exactly as C's
 * `ROUNDUP_MESSAGE` on a `uint32_t` (0xFFFFFFF8 rounds to 0). `roundUpToSlot` from the ABI
 * module is for small trusted values: its `&` would turn 0x80000000 negative.
 */
function roundUpU32(value: number): number {
  return ((value + 15) & ~15) >>> 0;
}

/**
 * `get_sanitized_ring`'s rx_ptr: rounded up to 16 and reset to 0 if it is not below `len`.
 * A hostile guest can therefore only corrupt its own ring, never make the hypervisor write
 * outside it.
 */
export function sanitizeRxPtr(rawRxPtr: number, len: number): number {
  const rx = roundUpU32(rawRxPtr);
  return rx >= len ? 0 : rx;
}

/** The guest's current rx_ptr, sanitised. */
export function sanitizedRxPtr(ring: RingBuffer): number {
  return sanitizeRxPtr(pageAt(ring.pages, 0).readUInt32LE(RING_RX_PTR_OFFSET), ring.len);
}

/** `ringbuf_payload_space`: payload bytes a message may carry right now (argo-spec §4.4). */
export function payloadSpace(ring: RingBuffer): number {
  return ringPayloadSpace(ring.len, sanitizedRxPtr(ring), ring.txPtr);
}

/**
 * tx_ptr for a ring being (re-)registered over `pages` (argo-spec §3.2 step 10): the guest's
 * tx_ptr if it is 16-aligned and below `len` (this is how re-registration keeps it); otherwise
 * ROUNDUP16(guest rx_ptr), or 0 if that is not below `len`, written back to the guest header.
 */
export function initTxPtr(pages: readonly Buffer[], len: number): number {
  const header = pageAt(pages, 0);
  const guestTx = header.readUInt32LE(RING_TX_PTR_OFFSET);
  if (guestTx < len && guestTx % ARGO_MSG_HEADER_SIZE === 0) return guestTx;
  const tx = sanitizeRxPtr(header.readUInt32LE(RING_RX_PTR_OFFSET), len);
  header.writeUInt32LE(tx, RING_TX_PTR_OFFSET);
  return tx;
}

/**
 * `memcpy_to_guest_ring`: copies `length` bytes of the sender's memory at `gpa` into ring bytes
 * `[offset, offset + length)`, page by page. Precondition: `offset + length <= len` (the caller
 * splits at the wrap point) and the source range is inside the sender's memory.
 */
function copyIntoRing(
  pages: readonly Buffer[],
  offset: number,
  source: GuestMemory,
  gpa: number,
  length: number,
): void {
  let done = 0;
  while (done < length) {
    // 64 + offset + done < 64 + len <= 64 + 0xFFFFC0 < 2^31, so the bit operations are exact.
    const abs = ARGO_RING_HEADER_SIZE + offset + done;
    const pageOffset = abs & PAGE_MASK;
    const chunk = Math.min(PAGE_SIZE - pageOffset, length - done);
    source.copyOut(gpa + done, chunk, pageAt(pages, abs >>> PAGE_SHIFT), pageOffset);
    done += chunk;
  }
}

/**
 * Ring bytes `[offset, offset + length)` copied out of the ring's pages (the reverse of
 * `copyIntoRing`; same precondition: the caller splits at the wrap point). What a guest's own
 * read of its ring would return, for a VIRQ that carries it (grpc/virq-ring-data.ts).
 */
export function copyOutOfRing(ring: RingBuffer, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  copyOutOfRingInto(ring, offset, length, out, 0);
  return out;
}

/** `copyOutOfRing` into `target[targetOffset..]`, which has room; allocates nothing. */
export function copyOutOfRingInto(
  ring: RingBuffer,
  offset: number,
  length: number,
  target: Buffer,
  targetOffset: number,
): void {
  let done = 0;
  while (done < length) {
    const abs = ARGO_RING_HEADER_SIZE + offset + done;
    const pageOffset = abs & PAGE_MASK;
    const chunk = Math.min(PAGE_SIZE - pageOffset, length - done);
    pageAt(ring.pages, abs >>> PAGE_SHIFT).copy(
      target,
      targetOffset + done,
      pageOffset,
      pageOffset + chunk,
    );
    done += chunk;
  }
}

/**
 * `ringbuf_insert` (argo-spec §4.3): writes one message (16-byte header, then the iovs'
 * bytes) at tx_ptr and publishes the new tx_ptr. Returns `payloadLen` or a negative errno:
 * -EMSGSIZE (can never fit this ring), -EAGAIN (no room now), -EFAULT (an iov outside the
 * sender's memory; checked before any byte is written, so nothing is published or clobbered).
 *
 * Preconditions (sendv's iov_count): every iov length is an integer in
 * [0, MAX_ARGO_MESSAGE_SIZE] and `payloadLen` is their sum, at most MAX_ARGO_MESSAGE_SIZE;
 * `srcAport` and `messageType` are u32, `srcDomid` a u16.
 */
export function ringbufInsert(
  ring: RingBuffer,
  source: GuestMemory,
  srcAport: number,
  srcDomid: number,
  iovs: readonly Iov[],
  payloadLen: number,
  messageType: number,
): number {
  const len = ring.len;
  // payloadLen <= MAX_ARGO_MESSAGE_SIZE < 2^25, so the slot rounding cannot overflow int32.
  const slotLen = (payloadLen + 15) & ~15;
  if (len <= ARGO_MSG_HEADER_SIZE + slotLen) return -Errno.EMSGSIZE;

  const rx = sanitizedRxPtr(ring);
  let tx = ring.txPtr;
  // Free span from tx up to rx; rx == tx always means empty (one slot always stays free).
  let sp = rx === tx ? len : rx - tx;
  if (sp < 0) sp += len;
  // Strictly >=: after this message at least one slot stays free, so rx == tx keeps meaning empty.
  if (slotLen + ARGO_MSG_HEADER_SIZE >= sp) return -Errno.EAGAIN;

  for (const iov of iovs) {
    if (iov.len !== 0 && !source.contains(iov.gpa, iov.len)) return -Errno.EFAULT;
  }

  // First write: the header. tx is 16-aligned and len a multiple of 16, so the 16-byte header
  // fits before the end of the ring, and 64 + tx is 16-aligned, so it never straddles a page.
  const abs = ARGO_RING_HEADER_SIZE + tx;
  const headerPage = pageAt(ring.pages, abs >>> PAGE_SHIFT);
  const h = abs & PAGE_MASK;
  headerPage.writeUInt32LE(payloadLen + ARGO_MSG_HEADER_SIZE, h + MSG_LEN_OFFSET);
  headerPage.writeUInt32LE(srcAport, h + MSG_SOURCE_APORT_OFFSET);
  headerPage.writeUInt16LE(srcDomid, h + MSG_SOURCE_DOMID_OFFSET);
  headerPage.writeUInt16LE(0, h + MSG_SOURCE_PAD_OFFSET);
  headerPage.writeUInt32LE(messageType, h + MSG_TYPE_OFFSET);
  tx += ARGO_MSG_HEADER_SIZE;
  if (tx === len) tx = 0;

  // Then the payload, which may wrap. The span check above guarantees the whole message lies
  // in the free region [tx, rx), so no write below can reach unread data.
  for (const iov of iovs) {
    let remaining = iov.len;
    let gpa = iov.gpa;
    while (remaining > 0) {
      // tx < len, so chunk >= 1; a chunk never runs past the end of the ring (tail-wrap write).
      const chunk = Math.min(remaining, len - tx);
      copyIntoRing(ring.pages, tx, source, gpa, chunk);
      tx += chunk;
      if (tx === len) tx = 0;
      gpa += chunk;
      remaining -= chunk;
    }
  }

  // Skip the padding to the next slot without writing it (it keeps its stale bytes).
  tx = (tx + 15) & ~15;
  if (tx >= len) tx -= len;

  // Publish: data first (above), then tx_ptr (private copy and guest header), then the caller
  // signals. Single-threaded JS needs no barrier; the order is what a reader may rely on.
  ring.txPtr = tx;
  pageAt(ring.pages, 0).writeUInt32LE(tx, RING_TX_PTR_OFFSET);
  return payloadLen;
}
