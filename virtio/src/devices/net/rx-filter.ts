// SPDX-License-Identifier: Apache-2.0
/**
 * `RxFilter`: the receive filter of one virtio-net port, as the control queue sets it (VirtIO 1.2
 * §5.1.6.5.1 "Packet Receive Filtering", §5.1.6.5.2 "Setting MAC Address Filtering"): the port's
 * MAC (config `mac`, or the one set with VIRTIO_NET_CTRL_MAC_ADDR_SET), promiscuous and
 * all-multicast modes (VIRTIO_NET_CTRL_RX_PROMISC / _ALLMULTI) and the MAC filtering table
 * (VIRTIO_NET_CTRL_MAC_TABLE_SET: extra unicast and multicast addresses).
 *
 * A frame is accepted when the port is promiscuous; or its destination is broadcast; or, for a
 * multicast destination, when all-multicast is on or the address is in the multicast table; or,
 * for a unicast destination, when it is the port's MAC or in the unicast table ("The device
 * SHOULD drop incoming packets which have a destination MAC which matches neither the mac ... nor
 * the MAC filtering table").
 *
 * The state after a device reset: the configured MAC, empty tables (§5.1.6.5.2 "The device MUST
 * have an empty MAC filtering table on reset"), all-multicast off, and **promiscuous on**. The
 * spec names no default for the RX modes; QEMU resets to promiscuous ("compatibility mode"), so a
 * driver that never negotiates VIRTIO_NET_F_CTRL_RX keeps receiving everything the switch sends
 * it, as before the control queue existed. hmx's `NetDriver` turns promiscuous mode off when it
 * brings the device up (as Linux does on ndo_open / set_rx_mode).
 *
 * Tables larger than `MAC_TABLE_ENTRIES` are not refused: that class of address is then accepted
 * wholesale (QEMU's uni_overflow / multi_overflow), so memory stays bounded and filtering errs
 * towards delivering.
 */
import {
  BROADCAST_MAC,
  formatMac,
  isMulticastMac,
  macEquals,
  type MacAddress,
} from "../../packets/ethernet.js";

/** Entries per MAC filtering table (QEMU's MAC_TABLE_ENTRIES). */
export const MAC_TABLE_ENTRIES = 64;

/** One port's receive filter (see the module comment). */
export class RxFilter {
  readonly #defaultMac: MacAddress;
  #mac: MacAddress;
  promiscuous = true;
  allMulticast = false;
  #unicast = new Set<string>();
  #multicast = new Set<string>();
  #unicastOverflow = false;
  #multicastOverflow = false;

  constructor(mac: MacAddress) {
    this.#defaultMac = mac.slice();
    this.#mac = mac.slice();
  }

  /** The MAC the port answers to. */
  get mac(): MacAddress {
    return this.#mac.slice();
  }

  set mac(mac: MacAddress) {
    this.#mac = mac.slice();
  }

  /** Replaces both tables (VIRTIO_NET_CTRL_MAC_TABLE_SET). */
  setTables(unicast: readonly MacAddress[], multicast: readonly MacAddress[]): void {
    this.#unicastOverflow = unicast.length > MAC_TABLE_ENTRIES;
    this.#multicastOverflow = multicast.length > MAC_TABLE_ENTRIES;
    this.#unicast = new Set(this.#unicastOverflow ? [] : unicast.map(formatMac));
    this.#multicast = new Set(this.#multicastOverflow ? [] : multicast.map(formatMac));
  }

  /** Back to the state after a device reset (see the module comment). */
  reset(): void {
    this.#mac = this.#defaultMac.slice();
    this.promiscuous = true;
    this.allMulticast = false;
    this.setTables([], []);
  }

  /** Does the port take a frame for `dst`? */
  accepts(dst: MacAddress): boolean {
    if (this.promiscuous || macEquals(dst, BROADCAST_MAC)) return true;
    if (isMulticastMac(dst))
      return this.allMulticast || this.#multicastOverflow || this.#multicast.has(formatMac(dst));
    return macEquals(dst, this.#mac) || this.#unicastOverflow || this.#unicast.has(formatMac(dst));
  }
}
