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
}

export class FairScheduler {
  /** Domains with queued jobs, in round-robin order (a Map keeps insertion order). */
  private readonly queues = new Map<number, Job[]>();
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
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.round();
    });
  }

  /** One round: each runnable domain, in turn, gets one slice. */
  private round(): void {
    let runnable = false;
    for (const domid of [...this.queues.keys()]) {
      if (this.isBlocked(domid)) continue;
      this.runSlice(domid);
      const queue = this.queues.get(domid);
      if (queue === undefined) continue;
      // Served: to the back of the line.
      this.queues.delete(domid);
      this.queues.set(domid, queue);
      if (!this.isBlocked(domid)) runnable = true;
    }
    if (runnable) this.schedule();
  }

  private runSlice(domid: number): void {
    const queue = this.queues.get(domid);
    if (queue === undefined) return;
    let spent = 0;
    for (let job = queue[0]; job !== undefined; job = queue[0]) {
      try {
        while (!job.done && spent < this.options.sliceUnits && !this.isBlocked(domid)) {
          spent += Math.max(1, job.step());
        }
      } catch (err) {
        queue.shift();
        if (queue.length === 0) this.queues.delete(domid);
        if (job.failed === undefined) throw err;
        job.failed(err);
        return;
      }
      if (!job.done) {
        job.paused?.();
        return;
      }
      queue.shift();
      if (spent >= this.options.sliceUnits || this.isBlocked(domid)) break;
    }
    if (queue.length === 0) this.queues.delete(domid);
  }
}
