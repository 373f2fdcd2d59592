// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio bench's blk phases with every party in its own process, as a deployment runs
 * them (`hmx up`, the container fleet): the hypervisor started as an operator does
 * (`hypervisor-process.ts`), the back-end guest and the front-end guest each a forked
 * `virtio-party.ts`. The orchestrator only creates the domains and tells the front end which
 * phase to run; around each phase it reads every party's CPU time from /proc and both guests'
 * work counts, so a row says what a request costs each process, not only how fast it went.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ToolstackClient } from "@hmx/client";
import { Worker } from "./children.js";
import { startHypervisorProcess } from "./hypervisor-process.js";
import { cpuSeconds } from "./proc-stat.js";
import {
  BLK_TESTS,
  type BlkPhaseOptions,
  type BlkTest,
  type Phase,
  type WorkTally,
} from "./virtio-blk-phases.js";

/** Every command to a party is answered within this (a phase is capped well below it). */
const PARTY_TIMEOUT_MS = 60_000;
const DOMAIN_MEMORY = 64 * 1024 * 1024;

export interface ProcessPhaseResult {
  readonly test: BlkTest;
  readonly phase: Phase;
  /** Both guests' multicalls and memory bytes during the phase. */
  readonly work: WorkTally;
  /** CPU seconds each process used during the phase (null where /proc is not readable). */
  readonly cpuSeconds: Readonly<Record<"hypervisor" | "backend" | "frontend", number | null>>;
}

export interface ProcessRunOptions extends BlkPhaseOptions {
  readonly diskBytes: number;
  /** The blk ring length (both ends); absent: the toolstack's blk default. */
  readonly blkRingLen?: number;
  /** The blk phases to run, in this order; default all (`BLK_TESTS`). */
  readonly tests?: readonly BlkTest[];
  /** Milliseconds of each phase run unmeasured first (the parties are fresh processes). */
  readonly warmupMs: number;
}

/** Runs every blk phase through a hypervisor, a back end and a front end in three processes. */
export async function runBlkPhasesInProcesses(o: ProcessRunOptions): Promise<ProcessPhaseResult[]> {
  const imageDir = mkdtempSync(join(tmpdir(), "hmx-virtio-procs-"));
  const hv = await startHypervisorProcess({
    args: ["--max-total-memory", String(4 * DOMAIN_MEMORY)],
  });
  const toolstack = new ToolstackClient(hv.controlListen, hv.adminToken);
  const parties: Worker[] = [];
  try {
    const be = await toolstack.createDomain({
      name: "bench-proc-be",
      label: "backend_t",
      memoryBytes: DOMAIN_MEMORY,
      devices: [],
    });
    const fe = await toolstack.createDomain({
      name: "bench-proc-blk",
      label: "frontend_t",
      memoryBytes: DOMAIN_MEMORY,
      devices: [
        {
          type: "blk",
          backendDomid: be.domid,
          capacityBytes: o.diskBytes,
          ...(o.blkRingLen === undefined ? {} : { ringLen: o.blkRingLen }),
        },
      ],
    });
    const backend = new Worker("virtio back end", "virtio-party.js");
    parties.push(backend);
    await backend.request(
      { cmd: "virtio-backend", address: hv.listen, credential: be.credential, imageDir },
      PARTY_TIMEOUT_MS,
    );
    const frontend = new Worker("virtio front end", "virtio-party.js");
    parties.push(frontend);
    await frontend.request(
      { cmd: "virtio-frontend", address: hv.listen, credential: fe.credential },
      PARTY_TIMEOUT_MS,
    );
    const pids = { hypervisor: hv.pid, backend: backend.pid, frontend: frontend.pid };
    const cpu = () => ({
      hypervisor: cpuSeconds(pids.hypervisor),
      backend: cpuSeconds(pids.backend),
      frontend: cpuSeconds(pids.frontend),
    });
    const work = async (): Promise<WorkTally> => {
      const [b, f] = await Promise.all(
        [backend, frontend].map((p) =>
          p.request<WorkTally>({ cmd: "virtio-work" }, PARTY_TIMEOUT_MS),
        ),
      );
      return {
        multicalls: (b?.multicalls ?? 0) + (f?.multicalls ?? 0),
        memoryBytes: (b?.memoryBytes ?? 0) + (f?.memoryBytes ?? 0),
      };
    };
    const phaseOptions = { maxOps: o.maxOps, maxPhaseMs: o.maxPhaseMs, queueDepth: o.queueDepth };
    if (o.warmupMs > 0)
      for (const test of o.tests ?? BLK_TESTS)
        await frontend.request<Phase>(
          { cmd: "virtio-phase", test, options: { ...phaseOptions, maxPhaseMs: o.warmupMs } },
          PARTY_TIMEOUT_MS,
        );
    const results: ProcessPhaseResult[] = [];
    for (const test of o.tests ?? BLK_TESTS) {
      const workBefore = await work();
      const cpuBefore = cpu();
      const phase = await frontend.request<Phase>(
        { cmd: "virtio-phase", test, options: phaseOptions },
        PARTY_TIMEOUT_MS,
      );
      const cpuAfter = cpu();
      const workAfter = await work();
      const used = (k: keyof typeof pids): number | null => {
        const a = cpuBefore[k];
        const b = cpuAfter[k];
        return a === null || b === null ? null : b - a;
      };
      results.push({
        test,
        phase,
        work: {
          multicalls: workAfter.multicalls - workBefore.multicalls,
          memoryBytes: workAfter.memoryBytes - workBefore.memoryBytes,
        },
        cpuSeconds: {
          hypervisor: used("hypervisor"),
          backend: used("backend"),
          frontend: used("frontend"),
        },
      });
    }
    return results;
  } finally {
    // The front end first: its driver's requests end before the back end goes away.
    for (const p of parties.reverse()) await p.close();
    toolstack.close();
    await hv.stop();
    rmSync(imageDir, { recursive: true, force: true });
  }
}
