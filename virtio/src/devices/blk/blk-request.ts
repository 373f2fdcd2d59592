// SPDX-License-Identifier: Apache-2.0
/**
 * Parsing and validating one virtio-blk request from a descriptor chain, VirtIO 1.2 §5.2.6
 * (virtio-argo.md §2.13, §4.9 "per-device semantic checks such as blk OUT data being a multiple
 * of 512 and within capacity, and that the status byte lies in a writable segment"), after
 * Firecracker's `Request::parse`. The request layout is
 * `{ le32 type; le32 reserved; le64 sector; }` (device-readable), data (readable for OUT,
 * writable for IN/GET_ID), then `u8 status`, the last device-writable byte — located with
 * `Writer.splitAt`, never by assuming descriptor boundaries (§2.7.4).
 *
 * The outcome is either a request to execute, an immediate status (IOERR / UNSUPP) for a
 * well-formed but unservable request, or `noStatus` when there is no writable byte to put a
 * status in (the driver broke the framing: the chain is completed with `used.len = 0`).
 */
import type { DescriptorChain } from "../../queue/descriptor-chain.js";
import type { Writer } from "../../queue/writer.js";
import {
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_REQ_HEADER_SIZE,
  VIRTIO_BLK_SECTOR_SIZE,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
} from "../../spec/virtio-blk.js";

/** Limits the device enforces beyond the spec's own. */
export interface BlkLimits {
  /** Capacity in sectors. */
  readonly capacitySectors: number;
  /** Largest data transfer per request, bytes (a multiple of 512). */
  readonly maxTransferBytes: number;
  readonly readOnly: boolean;
  /** VIRTIO_BLK_F_FLUSH negotiated. */
  readonly flush: boolean;
}

/** A validated request (offsets in bytes). */
export type BlkRequest =
  | {
      readonly type: "in";
      readonly offset: number;
      readonly len: number;
      readonly data: Writer;
      readonly status: Writer;
    }
  | {
      readonly type: "out";
      readonly offset: number;
      readonly payload: Uint8Array;
      readonly status: Writer;
    }
  | { readonly type: "flush"; readonly status: Writer }
  | { readonly type: "getId"; readonly data: Writer; readonly status: Writer };

/** What parsing produced. */
export type BlkParseResult =
  | { readonly kind: "request"; readonly request: BlkRequest }
  /** Answer at once with `status` (nothing else written). */
  | {
      readonly kind: "status";
      readonly status: number;
      readonly writer: Writer;
      readonly reason: string;
      readonly violation: boolean;
    }
  /** No device-writable byte for the status: complete with used.len = 0. */
  | { readonly kind: "noStatus" };

/** Parses and validates one request (see the module comment). */
export function parseBlkRequest(chain: DescriptorChain, limits: BlkLimits): BlkParseResult {
  if (chain.writableBytes < 1) return { kind: "noStatus" };
  const data = chain.writer();
  const status = data.splitAt(chain.writableBytes - 1);
  const reply = (s: number, reason: string, violation = false): BlkParseResult => ({
    kind: "status",
    status: s,
    writer: status,
    reason,
    violation,
  });

  const reader = chain.reader();
  if (reader.available < VIRTIO_BLK_REQ_HEADER_SIZE)
    return reply(VIRTIO_BLK_S_IOERR, "request header shorter than 16 bytes", true);
  const hdr = reader.readView(VIRTIO_BLK_REQ_HEADER_SIZE);
  const type = hdr.getUint32(0, true);
  const sector = hdr.getBigUint64(8, true);

  const checkRange = (len: number): string | undefined => {
    if (len % VIRTIO_BLK_SECTOR_SIZE !== 0) return `data length ${len} is not a multiple of 512`;
    if (len > limits.maxTransferBytes)
      return `data length ${len} above the ${limits.maxTransferBytes}-byte limit`;
    // bigint: a hostile sector near 2^64 must not wrap into range.
    if (sector + BigInt(len / VIRTIO_BLK_SECTOR_SIZE) > BigInt(limits.capacitySectors)) {
      return `sectors [${sector}, +${len / VIRTIO_BLK_SECTOR_SIZE}) beyond capacity ${limits.capacitySectors}`;
    }
    return undefined;
  };

  switch (type) {
    case VIRTIO_BLK_T_IN: {
      if (reader.available !== 0)
        return reply(VIRTIO_BLK_S_IOERR, "IN request with device-readable data", true);
      const len = data.available;
      const bad = checkRange(len);
      if (bad !== undefined)
        return reply(VIRTIO_BLK_S_IOERR, bad, len % VIRTIO_BLK_SECTOR_SIZE !== 0);
      return {
        kind: "request",
        request: { type: "in", offset: Number(sector) * VIRTIO_BLK_SECTOR_SIZE, len, data, status },
      };
    }
    case VIRTIO_BLK_T_OUT: {
      // §5.2.6.1: with VIRTIO_BLK_F_RO, "MUST set the status byte to VIRTIO_BLK_S_IOERR for a
      // write request ... and MUST NOT write any data".
      if (limits.readOnly) return reply(VIRTIO_BLK_S_IOERR, "write to a read-only device");
      const len = reader.available;
      const bad = checkRange(len);
      if (bad !== undefined)
        return reply(VIRTIO_BLK_S_IOERR, bad, len % VIRTIO_BLK_SECTOR_SIZE !== 0);
      // Copied once, now: the driver cannot change what we write after validation.
      const payload = reader.read(len);
      return {
        kind: "request",
        request: { type: "out", offset: Number(sector) * VIRTIO_BLK_SECTOR_SIZE, payload, status },
      };
    }
    case VIRTIO_BLK_T_FLUSH:
      if (!limits.flush) return reply(VIRTIO_BLK_S_UNSUPP, "FLUSH without VIRTIO_BLK_F_FLUSH");
      return { kind: "request", request: { type: "flush", status } };
    case VIRTIO_BLK_T_GET_ID:
      if (data.available === 0)
        return reply(VIRTIO_BLK_S_IOERR, "GET_ID without a data buffer", true);
      return { kind: "request", request: { type: "getId", data, status } };
    default:
      return reply(VIRTIO_BLK_S_UNSUPP, `request type ${type}`);
  }
}

/** The GET_ID answer: up to 20 bytes, NUL-padded (not NUL-terminated when 20 long). */
export function encodeBlkId(id: string): Uint8Array {
  const out = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  out.set(new TextEncoder().encode(id).subarray(0, VIRTIO_BLK_ID_BYTES));
  return out;
}
