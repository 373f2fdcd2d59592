// SPDX-License-Identifier: Apache-2.0
/** The guest workloads (echo, ping, traffic, sink) and their option and stats types. */
export { runEcho, newEchoStats, type EchoOptions, type EchoStats } from "./echo.js";
export { runPing, newPingStats, type PingOptions, type PingStats } from "./ping.js";
export { runTraffic, newTrafficStats, type TrafficOptions, type TrafficStats } from "./traffic.js";
export {
  runSink,
  newSinkStats,
  SequenceChecker,
  type SinkOptions,
  type SinkStats,
} from "./sink.js";
export {
  LatencyHistogram,
  NUMBERED_HEADER_SIZE,
  numberedPayload,
  readNumbered,
  waitForPeer,
  writeNumbered,
  type WorkloadBaseOptions,
} from "./common.js";

export {
  runFleet,
  newFleetStats,
  type FleetOptions,
  type FleetStats,
  type FleetPeer,
  type FleetLogger,
} from "./fleet.js";

export {
  runVirtioBackend,
  newVirtioBackendStats,
  type VirtioBackendOptions,
  type VirtioBackendStats,
} from "./virtio-backend.js";
export {
  runVirtioDemo,
  newVirtioDemoStats,
  demoIp,
  type VirtioDemoOptions,
  type VirtioDemoStats,
} from "./virtio-demo.js";

export { runTunnel, newTunnelStats, type TunnelOptions, type TunnelStats } from "./tunnel.js";
export { parseTunnelFlags, TUNNEL_FLAGS, type TunnelSpec } from "./tunnel-flags.js";

/** Workload names as `--workload` accepts them. */
export const WORKLOAD_NAMES = [
  "echo",
  "ping",
  "traffic",
  "sink",
  "fleet",
  "virtio-backend",
  "virtio-demo",
  "tunnel",
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];
