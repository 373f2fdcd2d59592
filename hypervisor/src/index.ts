// SPDX-License-Identifier: Apache-2.0
/** Public surface of the hypervisor package: run it, configure it, or embed its pure core. */
export {
  startHypervisor,
  GUEST_SERVICE_NAME,
  TOOLSTACK_SERVICE_NAME,
  type RunningHypervisor,
} from "./hypervisor.js";
export {
  parseHypervisorConfig,
  embeddedHypervisorConfig,
  ConfigError,
  HYPERVISOR_USAGE,
  parseSize,
  type HypervisorConfig,
} from "./config.js";
export { createLogger } from "./logger.js";
export { compilePolicy, CompiledPolicy, type CompileResult } from "./mac/policy.js";
export { formatDiagnostic, type PolicyDiagnostic } from "./mac/policy-parser.js";
export {
  MacController,
  type FlaskMode,
  type AccessCheck,
  type AccessQuery,
} from "./mac/mac-controller.js";
export { Audit, type AuditRecord } from "./mac/audit.js";
export type { XsmModuleName } from "./mac/xsm-module.js";
export { createHypervisorCore, type HypervisorCore, type HypervisorCoreOptions } from "./core.js";
export { Argo, type RingSnapshot } from "./argo/argo.js";
export {
  DomainRegistry,
  DomainConfigError,
  DomainIdsExhaustedError,
  type DomainConfig,
} from "./domain/domain-registry.js";
export { Domain, type DomainCounters } from "./domain/domain.js";
export { GuestMemory } from "./memory/guest-memory.js";
export { MemoryQuota, MemoryQuotaExhaustedError } from "./memory/memory-quota.js";
export { ringIdString } from "./argo/ring-id.js";
export { HypercallDispatcher } from "./dispatch/dispatcher.js";
export {
  CallStatusCode,
  isFailure,
  type Hypercall,
  type HypercallResult,
} from "./dispatch/hypercall.js";
export type { ArgoOptions, VirqSink } from "./argo/types.js";
export {
  DeviceManager,
  DeviceConfigError,
  type DeviceSpecInput,
  type PlacedDevice,
} from "./devices/device-manager.js";
export {
  encodeVargTable,
  acpiChecksum,
  type VargEntry,
  type VargTableHeader,
} from "./devices/varg-table.js";
export type { DeviceEvent } from "./events/event-channel.js";
export { resetLink } from "./faults/reset-link.js";
export { LinkFaults, type LinkView } from "./faults/link-faults.js";
export type { FaultEvent, FaultEventListener, FaultKind } from "./faults/fault-events.js";
export { seededRandom } from "./faults/seeded-random.js";
export { widenFlowControl } from "./grpc/http2-stream.js";
export { PushCursors, VIRQ_RING_BYTES_MAX, virqRingData } from "./grpc/virq-ring-data.js";
