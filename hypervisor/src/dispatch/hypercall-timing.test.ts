// SPDX-License-Identifier: Apache-2.0
/**
 * Where a hypercall's time starts (what the metrics' latency histogram measures): a call on its
 * own reads the clock at its start and at its end; a multicall step that `follows` the call
 * executed just before it starts at that call's end mark, so a run of steps reads the clock
 * once per call. The chain never crosses an `unchain` (a multicall's run restarting after the
 * scheduler paused it) nor a call nothing observed (a state journal's replay).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import type { Domain } from "../domain/domain.js";
import type { Observer } from "../observability/observer.js";
import { at, createHarness } from "../test-utils/argo-harness.js";
import { HypercallDispatcher } from "./dispatcher.js";
import type { Hypercall } from "./hypercall.js";

/** An observer on a clock that ticks once per reading, noting each call's start mark. */
class TickingObserver implements Observer {
  readings = 0;
  readonly starts: number[] = [];

  hypercallStarted(): number {
    return ++this.readings;
  }

  hypercall(_caller: Domain, _call: Hypercall, _result: unknown, startedAt: number): number {
    this.starts.push(startedAt);
    return ++this.readings;
  }

  readonly virq = (): undefined => undefined;
  readonly stream = (): undefined => undefined;
  readonly macDenial = (): undefined => undefined;
  readonly domain = (): undefined => undefined;
  readonly fault = (): undefined => undefined;
}

const INFO: Hypercall = { op: "getDomainInfo" };

function setup(): { d: Domain; dispatcher: HypercallDispatcher; observer: TickingObserver } {
  const h = createHarness({ domains: 1, memoryBytes: 1024 * 1024 });
  const observer = new TickingObserver();
  const limits = { maxEntries: 16, maxBytes: 1 << 20 };
  const dispatcher = new HypercallDispatcher(h.argo, pino({ level: "silent" }), limits, observer);
  return { d: at(h.doms, 0), dispatcher, observer };
}

test("a call on its own reads the clock at its start and at its end", () => {
  const { d, dispatcher, observer } = setup();
  dispatcher.execute(d, INFO);
  dispatcher.execute(d, INFO);
  assert.deepEqual(observer.starts, [1, 3]);
  assert.equal(observer.readings, 4);
});

test("a step that follows starts at the previous call's end: one clock reading per call", () => {
  const { d, dispatcher, observer } = setup();
  dispatcher.unchain();
  for (let i = 0; i < 4; i++) dispatcher.execute(d, INFO, i > 0);
  // Readings: start 1, then ends 2, 3, 4, 5; each later call starts where the one before ended.
  assert.deepEqual(observer.starts, [1, 2, 3, 4]);
  assert.equal(observer.readings, 5);
});

test("after unchain a following step reads its own start", () => {
  const { d, dispatcher, observer } = setup();
  dispatcher.execute(d, INFO);
  dispatcher.unchain();
  dispatcher.execute(d, INFO, true);
  assert.deepEqual(observer.starts, [1, 3]);
});

test("a call nothing observed (a journal replay) leaves no end mark to follow", () => {
  const { d, dispatcher, observer } = setup();
  dispatcher.execute(d, INFO);
  dispatcher.observing = false;
  dispatcher.execute(d, INFO, true);
  dispatcher.observing = true;
  dispatcher.execute(d, INFO, true);
  // Not the first call's end mark (2), which the replayed call came after: a fresh reading.
  assert.deepEqual(observer.starts, [1, 3]);
});
