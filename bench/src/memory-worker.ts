// SPDX-License-Identifier: Apache-2.0
/**
 * The in-process half of "memory per idle domain": forked with `--expose-gc`, it builds the
 * hypervisor's pure core (`createHypervisorCore`: registry, memory quota, Argo), measures
 * `process.memoryUsage()` after full collections, creates the domains (never touched, so no
 * page is materialised), collects again and reports the heap (and external, and RSS)
 * difference. Unlike the RSS of a running hypervisor this is not blurred by garbage waiting
 * for collection; it leaves out the gRPC servers, which cost nothing per idle domain.
 */
import { createHypervisorCore } from "@hmx/hypervisor";

export interface InProcessMemoryResult {
  readonly domains: number;
  readonly domainMemoryBytes: number;
  readonly heapUsedDeltaBytes: number;
  readonly externalDeltaBytes: number;
  readonly rssDeltaBytes: number;
  readonly heapBytesPerDomain: number;
  /** Heap + external (ArrayBuffers included) per domain. */
  readonly bytesPerDomain: number;
}

/** How many idle domains: the first argument (the orchestrator passes it). */
const DOMAINS = Number(process.argv[2] ?? 1000);
const DOMAIN_MEMORY = 16 * 1024 * 1024;

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("memory-worker must run with --expose-gc");
  // Several passes: weak references and finalizers can free more on a second one.
  for (let i = 0; i < 4; i++) gc();
}

const core = createHypervisorCore({
  argo: { enabled: true, macPermissive: true },
  // Every domain reserves its whole size (docs/memory-accounting.md): room for all, plus warm-up.
  maxTotalMemoryBytes: (DOMAINS + 1) * DOMAIN_MEMORY,
  maxDomainMemoryBytes: 1024 ** 3,
  virq: { raiseVirq: () => undefined },
});
// Warm the code paths (and their one-off allocations) with one domain, then destroy it.
const warm = core.domains.create({ name: "warm-up", label: "bench", memoryBytes: DOMAIN_MEMORY });
core.domains.destroy(warm.domain.domid);

collect();
const before = process.memoryUsage();
for (let i = 0; i < DOMAINS; i++) {
  // The credential goes to the toolstack's caller, not kept by the hypervisor: dropped here.
  core.domains.create({ name: `idle-${i}`, label: "bench-idle", memoryBytes: DOMAIN_MEMORY });
}
collect();
const after = process.memoryUsage();
if (core.domains.list().length !== DOMAINS) throw new Error("domains went missing");

const heap = after.heapUsed - before.heapUsed;
const external = after.external - before.external;
const result: InProcessMemoryResult = {
  domains: DOMAINS,
  domainMemoryBytes: DOMAIN_MEMORY,
  heapUsedDeltaBytes: heap,
  externalDeltaBytes: external,
  rssDeltaBytes: after.rss - before.rss,
  heapBytesPerDomain: Math.round(heap / DOMAINS),
  bytesPerDomain: Math.round((heap + external) / DOMAINS),
};
process.send?.(result);
