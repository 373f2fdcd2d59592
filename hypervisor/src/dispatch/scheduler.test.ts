// SPDX-License-Identifier: Apache-2.0
/** The fair scheduler's rules, with scripted jobs and a manual event loop (no timers). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FairScheduler, type Job } from "./scheduler.js";

/** Rounds are deferred into this list; `drain()` runs them one at a time, as the event loop would. */
class ManualLoop {
  private readonly deferred: (() => void)[] = [];
  rounds = 0;
  readonly defer = (run: () => void): void => {
    this.deferred.push(run);
  };
  drain(maxRounds = 10_000): void {
    while (this.deferred.length > 0 && this.rounds < maxRounds) {
      this.rounds++;
      this.deferred.shift()?.();
    }
  }
}

/** A job of `costs.length` steps that logs "<name>:<step>" and returns each step's cost. */
function scriptedJob(log: string[], name: string, costs: readonly number[], stopAt?: number): Job {
  let next = 0;
  let stopped = false;
  return {
    get done() {
      return stopped || next >= costs.length;
    },
    step() {
      const i = next++;
      log.push(`${name}:${i}`);
      if (i === stopAt) stopped = true;
      return costs[i] ?? 1;
    },
  };
}

describe("FairScheduler", () => {
  test("a domain's jobs and their steps run in arrival order", () => {
    const loop = new ManualLoop();
    const s = new FairScheduler({ sliceUnits: 10, defer: loop.defer });
    const log: string[] = [];
    s.enqueue(1, scriptedJob(log, "a", [4, 4, 4, 4]));
    s.enqueue(1, scriptedJob(log, "b", [4, 4]));
    loop.drain();
    assert.deepEqual(log, ["a:0", "a:1", "a:2", "a:3", "b:0", "b:1"]);
  });

  test("a job that stops (stop-on-error) runs none of its later steps, and the next job still runs", () => {
    const loop = new ManualLoop();
    const s = new FairScheduler({ sliceUnits: 100, defer: loop.defer });
    const log: string[] = [];
    s.enqueue(1, scriptedJob(log, "a", [1, 1, 1, 1], 1));
    s.enqueue(1, scriptedJob(log, "b", [1]));
    loop.drain();
    assert.deepEqual(log, ["a:0", "a:1", "b:0"]);
  });

  test("enqueue never runs a job inline: it waits for the next round", () => {
    const loop = new ManualLoop();
    const s = new FairScheduler({ sliceUnits: 10, defer: loop.defer });
    const log: string[] = [];
    s.enqueue(1, scriptedJob(log, "a", [1]));
    assert.deepEqual(log, []);
    loop.drain();
    assert.deepEqual(log, ["a:0"]);
  });

  test("domains with pending work are served round-robin, one slice each per round", () => {
    const loop = new ManualLoop();
    const s = new FairScheduler({ sliceUnits: 10, defer: loop.defer });
    const log: string[] = [];
    // The attacker's one batch is 100 steps of 10 units; the victim queues two small jobs.
    s.enqueue(1, scriptedJob(log, "big", Array<number>(100).fill(10)));
    s.enqueue(2, scriptedJob(log, "v1", [1]));
    s.enqueue(2, scriptedJob(log, "v2", [1]));
    loop.drain();
    assert.deepEqual(log.slice(0, 4), ["big:0", "v1:0", "v2:0", "big:1"]);
    assert.equal(log.length, 102);
  });

  test("a slice is bounded by work units: the step that crosses the bound completes, then others run", () => {
    const loop = new ManualLoop();
    const s = new FairScheduler({ sliceUnits: 25, defer: loop.defer });
    const log: string[] = [];
    s.enqueue(1, scriptedJob(log, "a", Array<number>(10).fill(10)));
    s.enqueue(2, scriptedJob(log, "b", Array<number>(10).fill(10)));
    loop.drain();
    // 10 + 10 < 25, the third step crosses it: three steps per slice.
    assert.deepEqual(log.slice(0, 7), ["a:0", "a:1", "a:2", "b:0", "b:1", "b:2", "a:3"]);
  });

  test("a domain whose step overran its slice sits out the rounds that repay it while others are served, and keeps the debt across batches", () => {
    const loop = new ManualLoop();
    const s = new FairScheduler({ sliceUnits: 10, defer: loop.defer });
    const log: string[] = [];
    // One atomic step of 100 units against a slice of 10: 90 units of debt, nine rounds.
    s.enqueue(1, scriptedJob(log, "big", [100]));
    s.enqueue(2, scriptedJob(log, "v", Array<number>(30).fill(10)));
    // A second batch of the attacker: it must not shed the debt by starting a new job.
    s.enqueue(1, scriptedJob(log, "next", [1]));
    loop.drain();
    const victimBefore = log.slice(0, log.indexOf("next:0")).filter((e) => e.startsWith("v:"));
    // Round 1: big:0 then v:0; rounds 2-9 repay (v:1..v:8); round 10 credits the last 10 units
    // (credit 0 is not positive: v:9 alone); round 11 runs next:0 first.
    assert.equal(log[0], "big:0");
    assert.equal(
      victimBefore.length,
      10,
      `victim steps before the attacker's next: ${log.join(" ")}`,
    );
    assert.equal(log.length, 32);
  });

  test("a blocked domain waits (its job is paused) until woken, while others are served", () => {
    const loop = new ManualLoop();
    let blocked = false;
    const s = new FairScheduler({
      sliceUnits: 100,
      defer: loop.defer,
      isBlocked: (d) => d === 1 && blocked,
    });
    const log: string[] = [];
    let pauses = 0;
    const job = scriptedJob(log, "a", [1, 1, 1]);
    const pausable: Job = {
      get done() {
        return job.done;
      },
      step() {
        const units = job.step();
        if (log.length === 1) blocked = true; // over budget after its first step only
        return units;
      },
      paused() {
        pauses++;
      },
    };
    s.enqueue(1, pausable);
    s.enqueue(2, scriptedJob(log, "v", [1]));
    loop.drain();
    assert.deepEqual(log, ["a:0", "v:0"]);
    assert.equal(pauses, 1, "the job is told it was left unfinished");
    blocked = false;
    s.wake(1);
    loop.drain();
    assert.deepEqual(log, ["a:0", "v:0", "a:1", "a:2"]);
    assert.equal(s.pending(1), 0);
  });

  test("a forgotten domain's queued jobs never run", () => {
    const loop = new ManualLoop();
    const s = new FairScheduler({ sliceUnits: 10, defer: loop.defer });
    const log: string[] = [];
    s.enqueue(1, scriptedJob(log, "a", [1]));
    s.forget(1);
    loop.drain();
    assert.deepEqual(log, []);
  });

  test("a job whose step throws is dropped and told so; the domain's next job still runs", () => {
    const loop = new ManualLoop();
    const s = new FairScheduler({ sliceUnits: 100, defer: loop.defer });
    const log: string[] = [];
    const failures: unknown[] = [];
    s.enqueue(1, {
      done: false,
      step() {
        throw new Error("boom");
      },
      failed(err) {
        failures.push(err);
      },
    });
    s.enqueue(1, scriptedJob(log, "next", [1]));
    loop.drain();
    assert.equal(failures.length, 1);
    assert.deepEqual(log, ["next:0"]);
  });

  test("roundEnded runs once per round, after every step of that round", () => {
    const loop = new ManualLoop();
    const log: string[] = [];
    const s = new FairScheduler({
      sliceUnits: 10,
      defer: loop.defer,
      roundEnded: () => log.push("end"),
    });
    s.enqueue(1, scriptedJob(log, "a", [4, 4, 4]));
    s.enqueue(2, scriptedJob(log, "b", [1, 1]));
    loop.drain();
    // Round 1: a's first two steps use its slice and the third crosses it; b runs whole.
    assert.deepEqual(log, ["a:0", "a:1", "a:2", "b:0", "b:1", "end"]);
    s.enqueue(1, scriptedJob(log, "c", [20, 1]));
    loop.drain();
    // c overran its slice by 10: it sits the next round out, which still ends.
    assert.deepEqual(log.slice(6), ["c:0", "end", "end", "c:1", "end"]);
  });

  test("a slice that is not a positive integer is refused, naming the value", () => {
    assert.throws(() => new FairScheduler({ sliceUnits: 0 }), /slice 0 is not a positive integer/);
  });
});
