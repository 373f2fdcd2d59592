// SPDX-License-Identifier: Apache-2.0
/**
 * A test model of the hypervisor's ring write path, argo-spec §4.3 (xen/common/argo.c
 * `ringbuf_insert`), over a plain byte array: the reference the ring reader's tests check
 * against. It writes the 16-byte header at `tx`, the payload wrapping at `len`, rounds `tx` up to
 * the slot and leaves padding bytes untouched (stale), exactly as Xen does. Not used at runtime.
 */
import {
  ARGO_MSG_HEADER_SIZE,
  Errno,
  MSG_LEN_OFFSET,
  MSG_SOURCE_APORT_OFFSET,
  MSG_SOURCE_DOMID_OFFSET,
  MSG_SOURCE_PAD_OFFSET,
  MSG_TYPE_OFFSET,
  roundUpToSlot,
} from "@hmx/proto/abi";
import type { ArgoAddr } from "../hypercall/hypercall-client.js";

/** A ring's data area plus the two pointers, as the model mutates them. */
export interface ModelRing {
  readonly len: number;
  readonly data: Uint8Array;
  rxPtr: number;
  txPtr: number;
}

/** A fresh ring whose data area is filled with `fill` (Linux uses 0x5a), pointers at `start`. */
export function newModelRing(len: number, start = 0, fill = 0x5a): ModelRing {
  return { len, data: new Uint8Array(len).fill(fill), rxPtr: start, txPtr: start };
}

/**
 * `ringbuf_insert` for one message with a single iov: returns the payload length, or
 * `-EMSGSIZE` / `-EAGAIN` exactly where §4.3 steps 1 and 4 would.
 */
export function modelInsert(
  ring: ModelRing,
  source: ArgoAddr,
  messageType: number,
  payload: Uint8Array,
): number {
  const { len, data } = ring;
  if (len <= ARGO_MSG_HEADER_SIZE + roundUpToSlot(payload.length)) return -Errno.EMSGSIZE;
  let sp: number;
  if (ring.rxPtr === ring.txPtr) sp = len;
  else {
    sp = ring.rxPtr - ring.txPtr;
    if (sp < 0) sp += len;
  }
  // Strictly >=: one slot always stays free, so rx == tx always means empty.
  if (roundUpToSlot(payload.length) + ARGO_MSG_HEADER_SIZE >= sp) return -Errno.EAGAIN;

  let tx = ring.txPtr;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  view.setUint32(tx + MSG_LEN_OFFSET, payload.length + ARGO_MSG_HEADER_SIZE, true);
  view.setUint32(tx + MSG_SOURCE_APORT_OFFSET, source.aport, true);
  view.setUint16(tx + MSG_SOURCE_DOMID_OFFSET, source.domainId, true);
  view.setUint16(tx + MSG_SOURCE_PAD_OFFSET, 0, true);
  view.setUint32(tx + MSG_TYPE_OFFSET, messageType, true);
  tx += ARGO_MSG_HEADER_SIZE;
  if (tx === len) tx = 0;
  let done = 0;
  while (done < payload.length) {
    const chunk = Math.min(payload.length - done, len - tx);
    data.set(payload.subarray(done, done + chunk), tx);
    done += chunk;
    tx += chunk;
    if (tx === len) tx = 0;
  }
  tx = roundUpToSlot(tx);
  if (tx >= len) tx -= len;
  ring.txPtr = tx;
  return payload.length;
}
