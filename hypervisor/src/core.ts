// SPDX-License-Identifier: Apache-2.0
/**
 * Assembles the pure, synchronous hypervisor core: the memory quota, the domain registry and
 * the Argo engine, wired so that creating a domain runs `argo_init` and destroying one runs
 * `argo_destroy` before its memory is released (Xen's `domain_create` / `domain_kill` calls
 * into argo.c). No I/O happens here; the gRPC service and dispatcher sit on top.
 */
import { Argo } from "./argo/argo.js";
import type { ArgoMac } from "./argo/mac.js";
import type { ArgoOptions, VirqSink } from "./argo/types.js";
import { DomainRegistry } from "./domain/domain-registry.js";
import { MemoryQuota } from "./memory/memory-quota.js";

/** Configuration of `createHypervisorCore`. */
export interface HypervisorCoreOptions {
  /** Boot options (`--argo`, `--argo-mac-permissive`). */
  readonly argo: ArgoOptions;
  /** All domains' memory together; each domain reserves its whole size at creation. */
  readonly maxTotalMemoryBytes: number;
  /** Largest `memoryBytes` a single domain may be created with. */
  readonly maxDomainMemoryBytes: number;
  /** Receives VIRQ_ARGO raises. */
  readonly virq: VirqSink;
  /** XSM hooks; defaults to the dummy module (allow all). */
  readonly mac?: ArgoMac;
}

/** The assembled core. */
export interface HypervisorCore {
  readonly domains: DomainRegistry;
  readonly argo: Argo;
  readonly quota: MemoryQuota;
}

/** Builds the quota, registry and Argo engine and wires the lifecycle hooks. */
export function createHypervisorCore(options: HypervisorCoreOptions): HypervisorCore {
  const quota = new MemoryQuota(options.maxTotalMemoryBytes);
  const domains = new DomainRegistry({ quota, maxDomainMemoryBytes: options.maxDomainMemoryBytes });
  const argo = new Argo(domains, options.argo, options.virq, options.mac);
  domains.addHooks({
    created: (domain) => {
      argo.initDomain(domain);
    },
    destroying: (domain) => {
      argo.destroyDomain(domain);
    },
  });
  return { domains, argo, quota };
}
