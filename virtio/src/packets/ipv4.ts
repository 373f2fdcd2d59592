// SPDX-License-Identifier: Apache-2.0
/**
 * IPv4 packets (RFC 791), enough for ICMP echo between guests: a 20-byte header without options,
 * header checksum (RFC 1071), dotted-quad addresses. The parser rejects bad versions, header
 * lengths, total lengths and checksums rather than trusting a peer's packet.
 */
import { internetChecksum } from "./inet-checksum.js";

export const IPV4_HEADER_SIZE = 20;
export const IPPROTO_ICMP = 1;

export interface Ipv4Packet {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly ttl: number;
  readonly payload: Uint8Array;
}

export function parseIpv4Address(text: string): Uint8Array {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    throw new RangeError(`bad IPv4 address ${text}`);
  return Uint8Array.from(parts.map(Number));
}

export function formatIpv4Address(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 4)].join(".");
}

export function buildIpv4Packet(p: {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
}): Uint8Array {
  const out = new Uint8Array(IPV4_HEADER_SIZE + p.payload.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, 0x45); // version 4, IHL 5
  v.setUint16(2, out.length, false);
  v.setUint16(4, p.id ?? 0, false);
  v.setUint16(6, 0x4000, false); // DF
  v.setUint8(8, p.ttl ?? 64);
  v.setUint8(9, p.protocol);
  out.set(parseIpv4Address(p.src), 12);
  out.set(parseIpv4Address(p.dst), 16);
  v.setUint16(10, internetChecksum(out.subarray(0, IPV4_HEADER_SIZE)), false);
  out.set(p.payload, IPV4_HEADER_SIZE);
  return out;
}

/** Parses and verifies an IPv4 packet; undefined if anything is off. */
export function parseIpv4Packet(bytes: Uint8Array): Ipv4Packet | undefined {
  if (bytes.length < IPV4_HEADER_SIZE) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vihl = v.getUint8(0);
  const ihl = (vihl & 0x0f) * 4;
  const total = v.getUint16(2, false);
  if (vihl >> 4 !== 4 || ihl < IPV4_HEADER_SIZE || total < ihl || total > bytes.length)
    return undefined;
  if (internetChecksum(bytes.subarray(0, ihl)) !== 0) return undefined;
  return {
    src: formatIpv4Address(bytes.subarray(12, 16)),
    dst: formatIpv4Address(bytes.subarray(16, 20)),
    protocol: v.getUint8(9),
    ttl: v.getUint8(8),
    payload: bytes.subarray(ihl, total),
  };
}
