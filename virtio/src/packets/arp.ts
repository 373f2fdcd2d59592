// SPDX-License-Identifier: Apache-2.0
/**
 * ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet (htype 1, ptype 0x0800, hlen 6,
 * plen 4, op 1 request / 2 reply, sender and target hardware and protocol addresses).
 */
import type { MacAddress } from "./ethernet.js";
import { formatIpv4Address, parseIpv4Address } from "./ipv4.js";

export const ARP_PACKET_SIZE = 28;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

export interface ArpPacket {
  readonly op: typeof ARP_OP_REQUEST | typeof ARP_OP_REPLY;
  readonly senderMac: MacAddress;
  readonly senderIp: string;
  readonly targetMac: MacAddress;
  readonly targetIp: string;
}

export function buildArpPacket(p: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_PACKET_SIZE);
  const v = new DataView(out.buffer);
  v.setUint16(0, 1, false);
  v.setUint16(2, 0x0800, false);
  v.setUint8(4, 6);
  v.setUint8(5, 4);
  v.setUint16(6, p.op, false);
  out.set(p.senderMac, 8);
  out.set(parseIpv4Address(p.senderIp), 14);
  out.set(p.targetMac, 18);
  out.set(parseIpv4Address(p.targetIp), 24);
  return out;
}

/** Parses an Ethernet/IPv4 ARP request or reply; undefined otherwise. */
export function parseArpPacket(bytes: Uint8Array): ArpPacket | undefined {
  if (bytes.length < ARP_PACKET_SIZE) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    v.getUint16(0, false) !== 1 ||
    v.getUint16(2, false) !== 0x0800 ||
    v.getUint8(4) !== 6 ||
    v.getUint8(5) !== 4
  )
    return undefined;
  const op = v.getUint16(6, false);
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return undefined;
  return {
    op,
    senderMac: bytes.slice(8, 14),
    senderIp: formatIpv4Address(bytes.subarray(14, 18)),
    targetMac: bytes.slice(18, 24),
    targetIp: formatIpv4Address(bytes.subarray(24, 28)),
  };
}
