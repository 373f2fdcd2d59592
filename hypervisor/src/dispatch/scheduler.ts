// SPDX-License-Identifier: Apache-2.0
/**
 * Fair service between domains. Every guest hypercall (a Session batch, a unary call) is a job
 * queued under its domain; the scheduler serves the domains with pending work round-robin, each
 * for at most one slice of work units per round, and yields to the event loop between rounds so
 * that the network (a victim's next frame) is served too. Without it a batch ran to completion
 * before anything else: one frame of 512 × 16 MiB sends froze every other domain for seconds.
 *
 * What does not change is Xen's semantics: a domain's jobs run in arrival order, a job's steps
 * (its hypercalls) run in order, and each step runs synchronously to completion, so a hypercall
 * stays atomic and a multicall stays ordered and stop-on-error (the job decides what its next
 * step does). Only the points between hypercalls where another domain may run are new.
 *
 * A step is atomic, so one can overrun its slice (a 16 MiB copy against a 1 MiB slice). The
 * overrun is a debt (deficit round-robin): each round credits every queued domain one slice, and
 * a domain runs only while its credit is positive, so after a 16 MiB call its owner sits out the
 * next 15 rounds that others use, instead of running one huge step per round against their small
 * ones. A round in which only debtors are queued still yields to the event loop, so a victim's
 * request arriving meanwhile is served first. Debt outlives an empty queue (a guest cannot shed
 * it by sending one call per batch); unused credit does not.
 *
 * A domain can also be held back: while `isBlocked(domid)` (it holds more result bytes than its
 * budget) its jobs wait, and `wake(domid)` puts it back in the round once those bytes drained.
 */

/** A unit of queued work: a sequence of steps run one at a time. */
export interface Job {
  /**
   * Runs the next step (one hypercall) and returns the work units it cost: bytes actually
   * copied or read, plus a fixed cost per call and per entry processed. Never called again
   * once `done` is true.
   */
  step(): number;
  readonly done: boolean;
  /** Called when the scheduler leaves the job unfinished for this round (e.g. to flush results). */
  paused?(): void;
  /**
   * Called when a step threw (a bug, not guest input: hypercalls answer errnos); the job is then
   * dropped and the domain's next job runs. Without it the error is rethrown.
   */
  failed?(err: unknown): void;
}

export interface SchedulerOptions {
  /** Work units one domain may spend per round; the step that crosses the bound completes. */
  readonly sliceUnits: number;
  /** True while the domain must not run (over its held-bytes budget). */
  readonly isBlocked?: (domid: number) => boolean;
  /** How the next round is deferred; `setImmediate` lets I/O in between rounds. */
  readonly defer?: (run: () => void) => void;
  /**
   * Runs after every round, when each step of it has returned: the hypervisor delivers there
   * the VIRQs the round raised (events/event-channel.ts), in the same event-loop turn as the
   * results frames rather than on a later one.
   */
  readonly roundEnded?: () => void;
}

export class FairScheduler {
  /** Domains with queued jobs, in round-robin order (a Map keeps insertion order). */
  private readonly queues = new Map<number, Job[]>();
  /** Work units a domain may still spend; negative while it repays a step that overran. */
  private readonly credit = new Map<number, number>();
  private scheduled = false;
  private readonly isBlocked: (domid: number) => boolean;
  private readonly defer: (run: () => void) => void;

  constructor(private readonly options: SchedulerOptions) {
    if (!Number.isSafeInteger(options.sliceUnits) || options.sliceUnits < 1) {
      throw new RangeError(`scheduler slice ${options.sliceUnits} is not a positive integer`);
    }
    this.isBlocked = options.isBlocked ?? (() => false);
    this.defer = options.defer ?? ((run) => setImmediate(run));
  }

  /** Queues a job behind the domain's earlier ones; it runs on a later round, never inline. */
  enqueue(domid: number, job: Job): void {
    let queue = this.queues.get(domid);
    if (queue === undefined) {
      queue = [];
      this.queues.set(domid, queue);
    }
    queue.push(job);
    this.schedule();
  }

  /** A blocked domain may be runnable again (its held bytes drained). */
  wake(domid: number): void {
    if (this.queues.has(domid)) this.schedule();
  }

  /** Jobs queued for the domain (including one partly run). */
  pending(domid: number): number {
    return this.queues.get(domid)?.length ?? 0;
  }

  /** Drops every queued job of a domain (destroyed). */
  forget(domid: number): void {
    this.queues.delete(domid);
    this.credit.delete(domid);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.round();
    });
  }

  /** One round: each runnable domain, in turn, gets one slice of credit and runs while it lasts. */
  private round(): void {
    let runnable = false;
    for (const domid of [...this.queues.keys()]) {
      if (this.isBlocked(domid)) continue;
      const credit = (this.credit.get(domid) ?? 0) + this.options.sliceUnits;
      if (credit <= 0) {
        // Still repaying an overrun: sits this round out (it stays queued, in its place).
        this.credit.set(domid, credit);
        runnable = true;
        continue;
      }
      const left = this.runSlice(domid, credit);
      // Debt is kept; credit left over (queue emptied, or blocked) is not banked.
      if (left < 0) this.credit.set(domid, left);
      else this.credit.delete(domid);
      const queue = this.queues.get(domid);
      if (queue === undefined) continue;
      // Served: to the back of the line.
      this.queues.delete(domid);
      this.queues.set(domid, queue);
      if (!this.isBlocked(domid)) runnable = true;
    }
    this.options.roundEnded?.();
    if (runnable) this.schedule();
  }

  /** Runs the domain's jobs while `credit` lasts; returns what is left (negative: an overrun). */
  private runSlice(domid: number, credit: number): number {
    const queue = this.queues.get(domid);
    if (queue === undefined) return credit;
    let left = credit;
    for (let job = queue[0]; job !== undefined; job = queue[0]) {
      try {
        while (!job.done && left > 0 && !this.isBlocked(domid)) {
          left -= Math.max(1, job.step());
        }
      } catch (err) {
        queue.shift();
        if (queue.length === 0) this.queues.delete(domid);
        if (job.failed === undefined) throw err;
        job.failed(err);
        return left;
      }
      if (!job.done) {
        job.paused?.();
        return left;
      }
      queue.shift();
      if (left <= 0 || this.isBlocked(domid)) break;
    }
    if (queue.length === 0) this.queues.delete(domid);
    return left;
  }
}
