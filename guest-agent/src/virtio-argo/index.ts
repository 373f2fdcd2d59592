// SPDX-License-Identifier: Apache-2.0
/**
 * VirtIO over Argo (docs/virtio-argo.md "Transport over Argo" and "Discovery"; virtio-argo.md
 * §4.3–§4.9): the front-end transport and its hypercall-backed guest RAM (`frontend/`), the
 * back-end device host (`backend/`), the Argo channel both use (`channel/`), the wire format
 * (`wire/`) and discovery from the VARG table at gfn 0 (`discovery/`). The VirtIO core they
 * carry is @hmx/virtio; the end-to-end harness the tests and the benchmark share is
 * `@hmx/guest-agent/test-utils`, not exported here.
 */
export {
  ArgoTransport,
  errnoOf,
  type ArgoDeviceBinding,
  type ArgoTransportOptions,
  type ArgoTransportStats,
} from "./frontend/argo-transport.js";
export { ShadowGuestRam, type ShadowGuestRamStats } from "./frontend/shadow-guest-ram.js";
export { VioaHub, type OpenChannelOptions } from "./channel/vioa-hub.js";
export {
  VioaChannel,
  VioaSendError,
  type MessagePart,
  type VioaChannelStats,
} from "./channel/vioa-channel.js";
export * from "./wire/messages.js";
export * from "./wire/records.js";
export {
  packAvail,
  packUsed,
  FragmentError,
  type AvailMessage,
  type CompletedChain,
  type LocalChain,
} from "./wire/fragmenter.js";
export { TransportErrno, VirtioTransportError, errnoName } from "./wire/transport-error.js";
export {
  DeviceHost,
  type DeviceHostOptions,
  type DeviceHostStats,
  type HostedEntry,
} from "./backend/device-host.js";
export {
  HostedDevice,
  type HostedDeviceBinding,
  type HostedDeviceOptions,
  type HostedDeviceStats,
} from "./backend/hosted-device.js";
export {
  RemoteDeviceQueue,
  type RemoteQueueHooks,
  type RemoteQueueLimits,
} from "./backend/remote-device-queue.js";
export { ConsoleLog, type ConsoleLogOptions } from "./backend/console-log.js";
export {
  FrontendDevices,
  type FrontendDevice,
  type FrontendDevicesOptions,
  type FrontendDriver,
} from "./discovery/frontend-devices.js";
export {
  DeviceWatcher,
  type DeviceWatcherOptions,
  type DeviceWatcherStats,
} from "./discovery/device-watcher.js";
export {
  parseVargTable,
  readDeviceTable,
  isEmptyTable,
  type VargDevice,
  type VargReadResult,
  type VargTable,
} from "./discovery/varg-reader.js";
