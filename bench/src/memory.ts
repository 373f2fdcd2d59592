// SPDX-License-Identifier: Apache-2.0
/**
 * "Memory per idle domain", measured twice. (1) From outside: a fresh hypervisor process, its
 * VmRSS before and after 1,000 domains of 16 MiB (never touched) are created through the
 * toolstack, each after a short settle; RSS cannot be collected remotely, so this figure
 * includes garbage the process has not collected yet. (2) In process: `memory-worker.ts`
 * (forked with --expose-gc) builds the hypervisor core and measures the heap after full
 * collections. Both are reported; (2) is the tighter number, (1) the operator's view.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ToolstackClient } from "@hmx/client";
import { forkForResult } from "./children.js";
import { startHypervisorProcess } from "./hypervisor-process.js";
import type { InProcessMemoryResult } from "./memory-worker.js";
import { rssBytes } from "./proc-stat.js";

export interface RssMemoryResult {
  readonly domains: number;
  readonly domainMemoryBytes: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly bytesPerDomain: number;
  /** Resident guest memory across the idle domains, as the toolstack reports it (expect 0). */
  readonly residentGuestBytes: number;
  readonly createMs: number;
}

export interface MemoryResult {
  readonly rss: RssMemoryResult;
  readonly inProcess: InProcessMemoryResult;
}

const DOMAIN_MEMORY = 16 * 1024 * 1024;
/** Concurrent CreateDomain calls. */
const CONCURRENCY = 32;
const SETTLE_MS = 1500;

async function measureRss(domains: number, log: (s: string) => void): Promise<RssMemoryResult> {
  // Every domain reserves its whole 16 MiB (docs/memory-accounting.md): size the total to hold them.
  const total = (domains + 1) * DOMAIN_MEMORY;
  const hv = await startHypervisorProcess({ args: ["--max-total-memory", String(total)] });
  const toolstack = new ToolstackClient(hv.controlListen, hv.adminToken);
  try {
    // One domain first, so that the toolstack's code paths and channel are warm.
    await toolstack.createDomain({ name: "warm-up", label: "bench", memoryBytes: DOMAIN_MEMORY });
    await sleep(SETTLE_MS);
    const before = rssBytes(hv.pid);
    if (before === null) throw new Error("cannot read the hypervisor's VmRSS (is this Linux?)");
    const start = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < domains; i = next++) {
        await toolstack.createDomain({
          name: `idle-${i}`,
          label: "bench-idle",
          memoryBytes: DOMAIN_MEMORY,
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const createMs = Date.now() - start;
    const list = await toolstack.listDomains();
    if (list.length !== domains + 1)
      throw new Error(`expected ${domains + 1} domains, the toolstack lists ${list.length}`);
    await sleep(SETTLE_MS);
    const after = rssBytes(hv.pid) ?? Number.NaN;
    log(
      `created ${domains} idle domains in ${createMs} ms; hypervisor RSS ${mib(before)} → ${mib(after)} MiB`,
    );
    return {
      domains,
      domainMemoryBytes: DOMAIN_MEMORY,
      rssBeforeBytes: before,
      rssAfterBytes: after,
      bytesPerDomain: Math.round((after - before) / domains),
      residentGuestBytes: list.reduce((n, d) => n + d.memoryResidentBytes, 0),
      createMs,
    };
  } finally {
    toolstack.close();
    await hv.stop();
  }
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

export async function measureMemory(
  domains: number,
  log: (s: string) => void,
): Promise<MemoryResult> {
  const rss = await measureRss(domains, log);
  log("in-process core with --expose-gc …");
  const inProcess = await forkForResult<InProcessMemoryResult>(
    "memory-worker.js",
    [String(domains)],
    ["--expose-gc"],
    60_000,
  );
  return { rss, inProcess };
}
