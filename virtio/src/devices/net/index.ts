// SPDX-License-Identifier: Apache-2.0
/** virtio-net (VirtIO 1.2 §5.1): the device model, the learning switch, and frame helpers. */
export * from "../../spec/virtio-net.js";
export {
  NetDevice,
  MAX_CONTROL_COMMAND_BYTES,
  parseMacTables,
  type NetDeviceOptions,
  type NetDeviceStats,
} from "./net-device.js";
export { RxFilter, MAC_TABLE_ENTRIES } from "./rx-filter.js";
export {
  L2Switch,
  type L2SwitchOptions,
  type L2SwitchStats,
  type SwitchPort,
} from "./l2-switch.js";
export * from "../../packets/ethernet.js";
export * from "../../packets/arp.js";
export * from "../../packets/ipv4.js";
export * from "../../packets/icmp.js";
export { internetChecksum } from "../../packets/inet-checksum.js";
