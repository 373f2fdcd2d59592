// SPDX-License-Identifier: Apache-2.0
/** virtio-console (VirtIO 1.2 §5.3): the device model and the per-guest collector. */
export * from "../../spec/virtio-console.js";
export {
  ConsoleDevice,
  type ConsoleDeviceOptions,
  type ConsoleDeviceStats,
} from "./console-device.js";
export { ConsoleCollector, type ConsoleCollectorOptions } from "./console-collector.js";
