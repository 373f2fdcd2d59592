// SPDX-License-Identifier: Apache-2.0
/**
 * @hmx/virtio — VirtIO 1.2 with no hypervisor transport (docs/virtio-argo.md): guest memory as
 * the virtio code sees it, split virtqueues (§2.7) on both sides, the device lifecycle and
 * control plane, the blk / net / console device models and front-end drivers, the transport
 * interface and the in-process loopback transport. The Argo transport, the device host and
 * discovery live in @hmx/guest-agent (`virtio-argo/`); this package imports none of them.
 * Device models with their spec constants and packet codecs are also reachable one device at a
 * time: `@hmx/virtio/blk`, `@hmx/virtio/net`, `@hmx/virtio/console`.
 */
// Guest memory.
export {
  GuestRamBase,
  GuestRamError,
  GuestRamErrorKind,
  rangeInside,
  type GuestRam,
  type MemoryWriteOp,
  type MemoryWriteOutcome,
  type PendingWrites,
} from "./memory/guest-ram.js";
export { InMemoryGuestRam } from "./memory/in-memory-guest-ram.js";
export { DmaAllocator, DmaAllocationError } from "./memory/dma-allocator.js";
// Split virtqueues.
export * from "./queue/split-ring.js";
export { vringNeedEvent } from "./queue/need-event.js";
export { VirtQueueError, VirtQueueErrorKind, isViolation } from "./queue/virtqueue-error.js";
export {
  DescriptorChain,
  readDescriptor,
  writeDescriptor,
  type ChainSegment,
  type CheckedChainOptions,
} from "./queue/descriptor-chain.js";
export { Reader } from "./queue/reader.js";
export { Writer } from "./queue/writer.js";
export type { DeviceQueue } from "./queue/device-queue.js";
export {
  SplitQueue,
  validateSplitQueueConfig,
  type SplitQueueConfig,
  type SplitQueueHooks,
} from "./queue/split-queue.js";
export {
  SplitQueueDriver,
  type BufferElement,
  type SplitQueueDriverOptions,
  type UsedBuffer,
} from "./queue/split-queue-driver.js";
// Device lifecycle and control plane.
export * from "./features.js";
export * from "./device-status.js";
export {
  ConfigSpace,
  ConfigSpaceError,
  ConfigSpaceErrorKind,
  type WritableConfigField,
} from "./config-space.js";
export {
  ActivateError,
  VirtioDeviceBase,
  VirtioDeviceId,
  type ActivationContext,
  type DeviceState,
  type VirtioDevice,
  type VirtioInterrupt,
} from "./device.js";
export {
  VirtioDeviceController,
  type ControllerStats,
  type DeviceQueueFactory,
  type QueueSetup,
  type VirtioDeviceControllerOptions,
} from "./device-controller.js";
export {
  ViolationKind,
  ViolationLog,
  type ViolationLogOptions,
  type ViolationStats,
  type VirtioLogger,
} from "./violation-log.js";
export { FloodGuard } from "./flood-guard.js";
// Devices (back-end models).
export * as blk from "./devices/blk/index.js";
export * as net from "./devices/net/index.js";
export * as virtioConsole from "./devices/console/index.js";
// Transports.
export type { VirtioInterruptEvent, VirtioTransport } from "./transport/transport.js";
export {
  QueueResetError,
  QueueResetRefusal,
  StaleConfigGenerationError,
} from "./transport/transport-errors.js";
export {
  LoopbackTransport,
  type LoopbackTransportOptions,
} from "./transport/loopback-transport.js";
// Front-end drivers.
export {
  VirtioDriver,
  type DriverState,
  type VirtioDriverOptions,
} from "./drivers/virtio-driver.js";
export { VirtioDriverError, VirtioDriverErrorKind } from "./drivers/virtio-driver-error.js";
export { BlkDriver, BLK_DRIVER_FEATURES, type BlkDriverOptions } from "./drivers/blk/blk-driver.js";
export {
  NetDriver,
  NET_DRIVER_FEATURES,
  type NetDriverOptions,
  type NetDriverStats,
} from "./drivers/net/net-driver.js";
export {
  MiniIpStack,
  PingTimeoutError,
  type FrameDevice,
  type MiniIpStackStats,
  type PingResult,
} from "./drivers/net/ip-stack.js";
export {
  ConsoleDriver,
  CONSOLE_DRIVER_FEATURES,
  type ConsoleDriverOptions,
} from "./drivers/console/console-driver.js";
// Test support (mock queues, device harness, bounded waits, property seeds) is not exported
// here: it is `@hmx/virtio/test-utils`, which the image build drops with every test-utils/.
