// SPDX-License-Identifier: Apache-2.0
/**
 * Runs one attack against a hypervisor process while a victim pair keeps passing messages, and
 * reports what the hostile tests assert and the bench prints: the hypervisor's peak RSS growth
 * during the attack, and the victim's deliveries before, during and after it. Ordering, not
 * time, is what tests use: `victimDuringAttack` counts deliveries between the launch and the
 * moment the attacker's own work was over.
 */
import { performance } from "node:perf_hooks";
import { processMemory, resetPeak } from "../process-memory.js";
import type { HostileAttack } from "./attack.js";
import { isolatedAttack, type IsolatableTarget } from "./isolated-attack.js";
import { VictimPair } from "./victim.js";

export interface AttackMeasurement {
  readonly attack: string;
  readonly kind: HostileAttack["kind"];
  readonly seed: number;
  /** Peak RSS during the attack minus RSS just before it. */
  readonly peakGrowthBytes: number;
  /** Victim deliveries between the launch and the attacker's work being over. */
  readonly victimDuringAttack: number;
  /** Victim messages/s before the attack, and from launch until the measurement ended. */
  readonly victimRateBefore: number;
  readonly victimRateDuring: number;
  /** Worst victim one-way latency from the launch on, ms. */
  readonly maxVictimLatencyMs: number;
  /** Whether the hypervisor process was still running at the end. */
  readonly hypervisorAlive: boolean;
  readonly facts: Readonly<Record<string, number>>;
}

export interface MeasureOptions {
  /** Deliveries before the attack (warm-up, then the "before" rate). */
  readonly baselineDeliveries?: number;
  /** Deliveries the victim must make after the attacker's work is over, attack still open. */
  readonly settleDeliveries?: number;
  /** Bound on the whole attack (a hang detector, not a measurement). */
  readonly timeoutMs?: number;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: not within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The attacker runs in a worker thread of its own (isolated-attack.ts), so the victim's rate
 * measures the hypervisor, not an attacker sharing the victim's event loop.
 */
export async function measureAttack(
  target: IsolatableTarget,
  hypervisorPid: number,
  attack: HostileAttack,
  seed: number,
  options: MeasureOptions = {},
): Promise<AttackMeasurement> {
  const baseline = options.baselineDeliveries ?? 200;
  const settle = options.settleDeliveries ?? 50;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const victim = await VictimPair.start(target, `victim-${attack.name}-${seed}`);
  try {
    await victim.waitForDeliveries(20, timeoutMs);
    const beforeStart = performance.now();
    await victim.waitForDeliveries(baseline, timeoutMs);
    const victimRateBefore = baseline / ((performance.now() - beforeStart) / 1000);
    const rssBefore = processMemory(hypervisorPid).rssBytes;
    resetPeak(hypervisorPid);
    const launchedAt = victim.delivered;
    const launchTime = performance.now();
    const run = await isolatedAttack(attack, target).launch(target, seed);
    try {
      await within(run.finished, timeoutMs, `${attack.name} (seed ${seed})`);
      const victimDuringAttack = victim.delivered - launchedAt;
      await victim.waitForDeliveries(settle, timeoutMs);
      const peak = processMemory(hypervisorPid).peakRssBytes;
      const during = victim.delivered - launchedAt;
      return {
        attack: attack.name,
        kind: attack.kind,
        seed,
        peakGrowthBytes: Math.max(0, peak - rssBefore),
        victimDuringAttack,
        victimRateBefore,
        victimRateDuring: during / ((performance.now() - launchTime) / 1000),
        maxVictimLatencyMs: Math.max(0, ...victim.latenciesMs.slice(launchedAt)),
        hypervisorAlive: isRunning(hypervisorPid),
        facts: run.facts(),
      };
    } finally {
      await run.stop();
    }
  } finally {
    await victim.stop();
  }
}
