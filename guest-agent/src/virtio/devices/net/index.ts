// SPDX-License-Identifier: Apache-2.0
/** virtio-net (VirtIO 1.2 §5.1): the device model, the learning switch, and frame helpers. */
export * from "./virtio-net.js";
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
export * from "./ethernet.js";
export * from "./arp.js";
export * from "./ipv4.js";
export * from "./icmp.js";
export { internetChecksum } from "./inet-checksum.js";
