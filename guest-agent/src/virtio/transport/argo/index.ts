// SPDX-License-Identifier: Apache-2.0
/**
 * VirtIO over Argo, part 2 (docs/virtio-argo.md "Transport over Argo" and "Discovery";
 * virtio-argo.md §4.3–§4.9): the front-end transport, the back-end device host, the wire
 * format, discovery from the VARG table at gfn 0, and the end-to-end harness the tests and the
 * benchmark share.
 */
export {
  ArgoTransport,
  errnoOf,
  type ArgoDeviceBinding,
  type ArgoTransportOptions,
  type ArgoTransportStats,
} from "./argo-transport.js";
export { VioaHub, type OpenChannelOptions, type VioaHubStats } from "./vioa-hub.js";
export {
  VioaChannel,
  VioaSendError,
  type MessagePart,
  type VioaChannelStats,
} from "./vioa-channel.js";
export * from "./messages.js";
export * from "./records.js";
export {
  packAvail,
  packUsed,
  FragmentError,
  type AvailMessage,
  type CompletedChain,
  type LocalChain,
} from "./fragmenter.js";
export { TransportErrno, VirtioTransportError, errnoName } from "./transport-error.js";
export {
  DeviceHost,
  type DeviceHostOptions,
  type DeviceHostStats,
  type HostedEntry,
} from "../../host/device-host.js";
export {
  HostedDevice,
  type HostedDeviceBinding,
  type HostedDeviceOptions,
  type HostedDeviceStats,
} from "../../host/hosted-device.js";
export {
  RemoteDeviceQueue,
  type RemoteQueueHooks,
  type RemoteQueueLimits,
} from "../../host/remote-device-queue.js";
export { ConsoleLog, type ConsoleLogOptions } from "../../host/console-log.js";
export {
  startWorld,
  type World,
  type WorldOptions,
  type TestGuestHandle,
} from "../../host/virtio-argo-harness.js";
export {
  FrontendDevices,
  type FrontendDevice,
  type FrontendDevicesOptions,
  type FrontendDriver,
} from "../../discovery/frontend-devices.js";
export {
  DeviceWatcher,
  type DeviceWatcherOptions,
  type DeviceWatcherStats,
} from "../../discovery/device-watcher.js";
export {
  parseVargTable,
  readDeviceTable,
  isEmptyTable,
  type VargDevice,
  type VargReadResult,
  type VargTable,
} from "../../discovery/varg-reader.js";
