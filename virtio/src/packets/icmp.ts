// SPDX-License-Identifier: Apache-2.0
/** ICMP echo request / reply (RFC 792): type, code, checksum, identifier, sequence, data. */
import { internetChecksum } from "./inet-checksum.js";

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_HEADER_SIZE = 8;

export interface IcmpEcho {
  readonly type: typeof ICMP_ECHO_REQUEST | typeof ICMP_ECHO_REPLY;
  readonly id: number;
  readonly seq: number;
  readonly data: Uint8Array;
}

export function buildIcmpEcho(e: IcmpEcho): Uint8Array {
  const out = new Uint8Array(ICMP_HEADER_SIZE + e.data.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, e.type);
  v.setUint16(4, e.id, false);
  v.setUint16(6, e.seq, false);
  out.set(e.data, ICMP_HEADER_SIZE);
  v.setUint16(2, internetChecksum(out), false);
  return out;
}

/** Parses an echo request or reply with a valid checksum; undefined otherwise. */
export function parseIcmpEcho(bytes: Uint8Array): IcmpEcho | undefined {
  if (bytes.length < ICMP_HEADER_SIZE || internetChecksum(bytes) !== 0) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = v.getUint8(0);
  if ((type !== ICMP_ECHO_REQUEST && type !== ICMP_ECHO_REPLY) || v.getUint8(1) !== 0)
    return undefined;
  return {
    type,
    id: v.getUint16(4, false),
    seq: v.getUint16(6, false),
    data: bytes.slice(ICMP_HEADER_SIZE),
  };
}
