// SPDX-License-Identifier: Apache-2.0
/**
 * The Argo faults that act on delivery rather than on a hypercall's answer: a late VIRQ, a
 * paused domain (no VIRQ, no hypercall until unpaused) and a slow hypervisor (hypercalls start
 * late, in order). Checked on the real EventChannel and scheduler, with the fault engine's hooks.
 */
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, test } from "node:test";
import { pino } from "pino";

import type { Job } from "../dispatch/scheduler.js";
import { EventChannel } from "../events/event-channel.js";
import { at, createHarness } from "../test-utils/argo-harness.js";
import { ArgoFaults } from "./argo-faults.js";
import { FaultingScheduler } from "./faulting-scheduler.js";

/** vm1 and vm2 with a real event channel (one watcher each) and a scheduler behind the engine. */
function setup() {
  const h = createHarness({ domains: 2 });
  const events = new EventChannel();
  const delivered: number[] = [];
  for (const d of h.doms) events.attach(d.domid, { deliverVirq: () => delivered.push(d.domid) });
  const ran: string[] = [];
  const faults: ArgoFaults = new ArgoFaults({
    registry: h.core.domains,
    seed: 3,
    log: pino({ level: "silent" }),
    wakeWaiters: () => undefined,
    released: (domid) => {
      scheduler.release(domid);
      scheduler.wake(domid);
      events.release(domid);
    },
  });
  events.attachFaults(faults);
  const scheduler = new FaultingScheduler(faults, {
    sliceUnits: 1_000,
    isBlocked: (domid) => faults.isPaused(domid),
  });
  const job = (name: string): Job => {
    let done = false;
    return {
      get done() {
        return done;
      },
      step() {
        ran.push(name);
        done = true;
        return 1;
      },
    };
  };
  return { h, events, delivered, faults, scheduler, ran, job };
}

/** Lets a few event-loop turns pass (deliveries and scheduler rounds are deferred). */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn();
}

/** Resolves once `check()` holds, polling each turn; a hang is caught by the test timeout. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await nextTurn();
}

describe("Argo faults on delivery", { timeout: 20_000 }, () => {
  test("a late VIRQ is delivered after its delay, not at once, and other domains' are on time", async () => {
    const { events, delivered, faults } = setup();
    faults.apply({ type: "late_virq", from: ["vm1"], delayMs: 30 });
    events.raiseVirq(1);
    events.raiseVirq(2);
    await settle();
    assert.deepEqual(delivered, [2], "vm1's VIRQ has not arrived yet; vm2's has");
    await until(() => delivered.includes(1));
    assert.deepEqual(delivered, [2, 1]);
  });

  test("late VIRQs raised meanwhile coalesce into one event, as the pending bit does", async () => {
    const { events, delivered, faults } = setup();
    faults.apply({ type: "late_virq", from: ["vm1"], delayMs: 20 });
    for (let i = 0; i < 10; i++) events.raiseVirq(1);
    await until(() => delivered.length > 0);
    await settle();
    assert.deepEqual(delivered, [1]);
  });

  test("a paused domain receives no VIRQ until it is unpaused, then exactly one", async () => {
    const { events, delivered, faults } = setup();
    const pause = faults.apply({ type: "pause", from: ["vm1"] });
    events.raiseVirq(1);
    events.raiseVirq(1);
    await settle();
    assert.deepEqual(delivered, []);
    faults.clear(pause.id);
    await settle();
    assert.deepEqual(delivered, [1]);
  });

  test("a paused domain runs no hypercall until it is unpaused; others run meanwhile", async () => {
    const { faults, scheduler, ran, job } = setup();
    const pause = faults.apply({ type: "pause", from: ["vm1"] });
    scheduler.enqueue(1, job("vm1-a"));
    scheduler.enqueue(2, job("vm2-a"));
    scheduler.enqueue(1, job("vm1-b"));
    await settle();
    assert.deepEqual(ran, ["vm2-a"]);
    faults.clear(pause.id);
    await settle();
    assert.deepEqual(ran, ["vm2-a", "vm1-a", "vm1-b"]);
  });

  test("a delayed domain's hypercalls wait their delay and keep their order", async () => {
    const { faults, scheduler, ran, job } = setup();
    faults.apply({ type: "delay", from: ["vm1"], delayMs: 20 });
    scheduler.enqueue(1, job("vm1-a"));
    scheduler.enqueue(2, job("vm2-a"));
    scheduler.enqueue(1, job("vm1-b"));
    await settle();
    assert.deepEqual(ran, ["vm2-a"], "vm1's calls are held, vm2's are not");
    assert.equal(scheduler.heldJobs(1), 2);
    await until(() => ran.length === 3);
    assert.deepEqual(ran, ["vm2-a", "vm1-a", "vm1-b"]);
  });

  test("a call queued behind held ones waits for them even once the delay has ended", async () => {
    const { faults, scheduler, ran, job } = setup();
    const delay = faults.apply({ type: "delay", from: ["vm1"], delayMs: 60_000 });
    scheduler.enqueue(1, job("held"));
    // The fault is gone from the engine, but its held job has not been released yet.
    faults.active = false;
    scheduler.enqueue(1, job("behind"));
    await settle();
    assert.deepEqual(ran, []);
    faults.active = true;
    faults.clear(delay.id);
    await settle();
    assert.deepEqual(ran, ["held", "behind"]);
  });

  test("a domain with no fault goes straight to the scheduler", async () => {
    const { h, faults, scheduler, ran, job } = setup();
    faults.apply({ type: "delay", from: ["vm2"], delayMs: 60_000 });
    scheduler.enqueue(at(h.doms, 0).domid, job("vm1"));
    assert.equal(scheduler.heldJobs(1), 0);
    await settle();
    assert.deepEqual(ran, ["vm1"]);
    faults.clearAll();
  });
});
