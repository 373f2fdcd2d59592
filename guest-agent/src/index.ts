// SPDX-License-Identifier: Apache-2.0
/** Public surface of the guest agent package: the hypercall client and its interface. */
export * from "./hypercall/hypercall-client.js";
export {
  SessionClient,
  type SessionClientOptions,
  type SessionLogger,
  type SessionState,
} from "./hypercall/session-client.js";
export { DEFAULT_BACKOFF, type BackoffOptions } from "./hypercall/backoff.js";
// libargo: endpoint, datagram sockets, rings (argo-spec §4, §7).
export {
  ArgoEndpoint,
  DEFAULT_SOCKET_TUNING,
  type BindOptions,
  type EndpointOptions,
  type EndpointStats,
} from "./libargo/argo-endpoint.js";
export { DgramSocket, type DgramMessage, type SocketStats } from "./libargo/dgram-socket.js";
export { ArgoSocketError, type ArgoErrorCode, type ArgoErrorInfo } from "./libargo/errors.js";
export {
  PageAllocator,
  OutOfGuestMemoryError,
  gfnsOf,
  type PageRun,
} from "./libargo/page-allocator.js";
export { ringBytesAvailable } from "@hmx/proto/abi";
export {
  readRing,
  type RingMessage,
  type RingCorruption,
  type RingReadResult,
} from "./libargo/ring-reader.js";
export { RxRing, DEFAULT_RING_LEN } from "./libargo/rx-ring.js";
// Workloads and the guest runner (`hmx guest`).
export * from "./workloads/index.js";
export {
  parseGuestConfig,
  ConfigError,
  ConfigError as GuestConfigError,
  GUEST_USAGE,
  redactedConfig,
  type GuestConfig,
} from "./config.js";
export { createGuestLogger } from "./logger.js";
export { runGuest, type RunGuestOptions, type GuestClient } from "./agent.js";
// VirtIO over Argo: transport, device host, discovery (docs/virtio-argo.md). The VirtIO core
// (queues, devices, drivers, loopback transport) is its own package, @hmx/virtio.
export * as virtioArgo from "./virtio-argo/index.js";
