// SPDX-License-Identifier: Apache-2.0
/** Public surface of the hypervisor package: run it, configure it, or embed its pure core. */
export { startHypervisor, GUEST_SERVICE_NAME, TOOLSTACK_SERVICE_NAME, type RunningHypervisor } from "./hypervisor.js";
export { parseHypervisorConfig, ConfigError, HYPERVISOR_USAGE, parseHostPort, parseSize, type HypervisorConfig } from "./config.js";
export { createLogger } from "./logger.js";
export { ToolstackClient, type DomainView, type DomainCountersView } from "./toolstack-client.js";
export { createHypervisorCore, type HypervisorCore, type HypervisorCoreOptions } from "./core.js";
export { Argo, type RingSnapshot } from "./argo/argo.js";
export { DomainRegistry, DomainConfigError, DomainIdsExhaustedError, type DomainConfig } from "./domain/domain-registry.js";
export { Domain, type DomainCounters } from "./domain/domain.js";
export { GuestMemory } from "./memory/guest-memory.js";
export { MemoryQuota } from "./memory/memory-quota.js";
export { ringIdString } from "./argo/ring-id.js";
export { HypercallDispatcher } from "./dispatch/dispatcher.js";
export { CallStatusCode, isFailure, type Hypercall, type HypercallResult } from "./dispatch/hypercall.js";
export type { ArgoOptions, VirqSink } from "./argo/types.js";
