// SPDX-License-Identifier: Apache-2.0
/**
 * The fair scheduler with the Argo `delay` fault in front of it: a slow hypervisor. While a
 * domain's hypercalls are delayed, each job it queues waits its delay before the scheduler sees
 * it, and every later job of that domain waits behind it, so the domain's calls still start in
 * arrival order (a multicall stays ordered). With no delay and nothing held it is the plain
 * `FairScheduler`: one property read per job.
 */
import { FairScheduler, type Job, type SchedulerOptions } from "../dispatch/scheduler.js";

/** What the scheduler asks of the fault engine (ArgoFaults). */
export interface HypercallDelays {
  readonly active: boolean;
  hypercallDelayMs(domid: number): number;
}

interface HeldJobs {
  readonly jobs: { readonly at: number; readonly job: Job }[];
  timer?: NodeJS.Timeout;
}

export class FaultingScheduler extends FairScheduler {
  private readonly held = new Map<number, HeldJobs>();

  constructor(
    private readonly delays: HypercallDelays,
    options: SchedulerOptions,
  ) {
    super(options);
  }

  override enqueue(domid: number, job: Job): void {
    const held = this.held.get(domid);
    const ms = this.delays.active ? this.delays.hypercallDelayMs(domid) : 0;
    if (held === undefined && ms === 0) {
      super.enqueue(domid, job);
      return;
    }
    const queue = held ?? { jobs: [] };
    const last = queue.jobs.at(-1)?.at ?? 0;
    queue.jobs.push({ at: Math.max(Date.now() + ms, last), job });
    if (held === undefined) {
      this.held.set(domid, queue);
      this.arm(domid, queue);
    }
  }

  /** Hands every job held for the domain to the scheduler now (its delay ended). */
  release(domid: number): void {
    const queue = this.held.get(domid);
    if (queue === undefined) return;
    clearTimeout(queue.timer);
    this.held.delete(domid);
    for (const { job } of queue.jobs) super.enqueue(domid, job);
  }

  /** Jobs of the domain held by a delay (not yet queued on the scheduler). */
  heldJobs(domid: number): number {
    return this.held.get(domid)?.jobs.length ?? 0;
  }

  override forget(domid: number): void {
    clearTimeout(this.held.get(domid)?.timer);
    this.held.delete(domid);
    super.forget(domid);
  }

  /** Wakes when the oldest held job is due, hands over every due job, and re-arms. */
  private arm(domid: number, queue: HeldJobs): void {
    const head = queue.jobs[0];
    if (head === undefined) {
      this.held.delete(domid);
      return;
    }
    queue.timer = setTimeout(
      () => {
        const now = Date.now();
        while (queue.jobs[0] !== undefined && queue.jobs[0].at <= now) {
          super.enqueue(domid, queue.jobs[0].job);
          queue.jobs.shift();
        }
        this.arm(domid, queue);
      },
      Math.max(0, head.at - Date.now()),
    );
    // A held call must not keep a stopping hypervisor alive.
    queue.timer.unref();
  }
}
