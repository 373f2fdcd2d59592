// SPDX-License-Identifier: Apache-2.0
/** Test support for end-to-end tests and the bench; never imported by the product. */
export { Testbed, TestProcess } from "./processes.js";
export { TcpProxy, resetLink } from "./tcp-proxy.js";
export { num, statsWhere, type GuestStats } from "./guest-stats.js";
export { processesWithMarker } from "./leftovers.js";
export { processMemory, resetPeak, type ProcessMemory } from "./process-memory.js";
export {
  memoryQuotaAttack,
  type MemoryQuotaAttackOptions,
  type MemoryQuotaAttackResult,
} from "./hostile/memory-quota.js";
export {
  startPreAuthMemoryAttack,
  type PreAuthMemoryAttack,
  type PreAuthMemoryAttackOptions,
} from "./hostile/pre-auth-memory.js";
export { openSession, startCall, writeMemoryRequest, type RawCall } from "./hostile/raw-grpc.js";
export {
  attemptEnrolmentTakeover,
  type EnrolmentTakeoverOptions,
  type TakeoverOutcome,
} from "./hostile/enrolment-takeover.js";
export {
  startConnectionFlood,
  type ConnectionFlood,
  type FloodConnection,
} from "./hostile/connection-flood.js";
export * from "./hostile/index.js";
