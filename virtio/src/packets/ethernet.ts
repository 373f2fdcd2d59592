// SPDX-License-Identifier: Apache-2.0
/**
 * Ethernet II frames (IEEE 802.3 / DIX): 6-byte destination and source MAC, 2-byte big-endian
 * EtherType, payload. What the virtio-net device carries and the L2 switch forwards. The FCS is
 * not carried (virtio-net frames have none). Builders and a bounds-checked parser.
 */

/** A MAC address (6 bytes). */
export type MacAddress = Uint8Array;

export const ETH_HEADER_SIZE = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const BROADCAST_MAC: MacAddress = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** A parsed frame; `payload` is a view into the frame. */
export interface EthernetFrame {
  readonly dst: MacAddress;
  readonly src: MacAddress;
  readonly ethertype: number;
  readonly payload: Uint8Array;
}

/** "02:00:00:00:00:01" → bytes. */
export function parseMac(text: string): MacAddress {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p)))
    throw new RangeError(`bad MAC ${text}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Bytes → "02:00:00:00:00:01". */
export function formatMac(mac: MacAddress): string {
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Group bit (I/G) set: broadcast or multicast. */
export function isMulticastMac(mac: MacAddress): boolean {
  return ((mac[0] ?? 0) & 1) === 1;
}

export function macEquals(a: MacAddress, b: MacAddress): boolean {
  return a.length === 6 && b.length === 6 && a.every((x, i) => x === b[i]);
}

/** A locally administered unicast MAC derived from a number (02:68:6d:xx:xx:xx). */
export function localMac(n: number): MacAddress {
  return Uint8Array.of(0x02, 0x68, 0x6d, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export function buildEthernetFrame(
  dst: MacAddress,
  src: MacAddress,
  ethertype: number,
  payload: Uint8Array,
): Uint8Array {
  const f = new Uint8Array(ETH_HEADER_SIZE + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  new DataView(f.buffer).setUint16(12, ethertype, false);
  f.set(payload, ETH_HEADER_SIZE);
  return f;
}

/** Parses a frame; undefined when shorter than the header. */
export function parseEthernetFrame(frame: Uint8Array): EthernetFrame | undefined {
  if (frame.length < ETH_HEADER_SIZE) return undefined;
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    ethertype: (frame[12] ?? 0) * 256 + (frame[13] ?? 0),
    payload: frame.subarray(ETH_HEADER_SIZE),
  };
}
