// SPDX-License-Identifier: Apache-2.0
/**
 * How often the metrics read the clock for a Session batch (docs/harness.md "Metrics"): once per
 * call plus once for the first, while the scheduler runs the batch's steps back to back, and
 * twice per call when it pauses the batch after every step (the next step may run after other
 * domains, so it must not start at the previous step's end). The readings counted are the
 * recording observer's `performance.now()` calls; the hypervisor runs in this process.
 */
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import type { SessionRequest } from "@hmx/proto/gen/hmx/argo/v1/SessionRequest.js";
import type { SessionResponse__Output } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";
import assert from "node:assert/strict";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { startTestHypervisor } from "../test-utils/test-hypervisor.js";

const CALLS = 20;
const GPA = String(FIRST_GUEST_GFN * PAGE_SIZE);

/** Clock readings the recording observer takes while `run` runs. */
async function observerReadings(run: () => Promise<void>): Promise<number> {
  const now = performance.now.bind(performance);
  let readings = 0;
  performance.now = () => {
    if (new Error().stack?.includes("recording-observer") === true) readings++;
    return now();
  };
  try {
    await run();
  } finally {
    performance.now = now;
  }
  return readings;
}

/** Readings for one Session batch of CALLS ReadMemory calls, on a hypervisor with metrics. */
async function readingsForOneBatch(scheduleSliceUnits?: number): Promise<number> {
  const t = await startTestHypervisor({
    httpListen: "127.0.0.1:0",
    ...(scheduleSliceUnits === undefined ? {} : { scheduleSliceUnits }),
  });
  try {
    const g = await t.createGuest("timed");
    const call = g.client.session(g.metadata);
    const frames: SessionResponse__Output[] = [];
    call.on("data", (f: SessionResponse__Output) => frames.push(f));
    call.write({ open: {} } satisfies SessionRequest);
    await until(() => frames.some((f) => f.kind === "ready"));
    const calls = Array.from({ length: CALLS }, (_, i) => ({
      requestId: String(i + 1),
      readMemory: { gpa: GPA, length: 8 },
    }));
    const results = () => frames.reduce((n, f) => n + (f.results?.results.length ?? 0), 0);
    const readings = await observerReadings(async () => {
      call.write({ batch: { calls } } satisfies SessionRequest);
      await until(() => results() === CALLS);
    });
    call.end();
    await once(call, "end").catch(() => undefined);
    return readings;
  } finally {
    await t.stop();
  }
}

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 5000) throw new Error("no answer within 5 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("a batch run back to back reads the clock once per call, plus once for its start", async () => {
  assert.equal(await readingsForOneBatch(), CALLS + 1);
});

test("a batch paused after every step reads the clock at both ends of every call", async () => {
  // A slice of one unit: every step overruns it, so the scheduler pauses the job after each.
  assert.equal(await readingsForOneBatch(1), 2 * CALLS);
});
