// SPDX-License-Identifier: Apache-2.0
/**
 * Request ids cannot be used up by one call: an id that jumps more than MAX_REQUEST_ID_STEP past
 * the last executed one is refused naming the value and the step, and the log is unchanged; an id
 * whose successor is not an exact number (2^53 - 1) is refused when it is parsed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DecodeError, MAX_REQUEST_ID, parseRequestId } from "../grpc/codec.js";
import { seededRandom } from "../faults/seeded-random.js";
import type { HypercallResult } from "./hypercall.js";
import { MAX_REQUEST_ID_STEP, ResumeLog } from "./resume-log.js";

const OK = { op: "writeMemory", ret: 0 } as const;

test("an id more than MAX_REQUEST_ID_STEP past the last executed one is refused, naming it, and changes nothing", () => {
  const log = new ResumeLog({ maxEntries: 16, maxBytes: 1024 });
  log.record(5, OK);
  const far = 5 + MAX_REQUEST_ID_STEP + 1;
  const decision = log.decide(far);
  assert.ok(decision.kind === "too-far", decision.kind);
  assert.match(decision.message, new RegExp(`${far}.*${MAX_REQUEST_ID_STEP}`));
  assert.deepEqual([log.lastExecuted, log.size], [5, 1]);
  assert.equal(
    log.decide(5 + MAX_REQUEST_ID_STEP).kind,
    "execute",
    "a jump of exactly the step is allowed",
  );
  assert.equal(log.decide(6).kind, "execute");
});

test("a request id of 2^53-1 is refused as undecodable, naming the value; 2^53-2 is the largest accepted", () => {
  const top = String(Number.MAX_SAFE_INTEGER);
  assert.throws(
    () => parseRequestId(top),
    (err: unknown) => err instanceof DecodeError && err.message.includes(top),
  );
  assert.equal(parseRequestId(String(MAX_REQUEST_ID)), MAX_REQUEST_ID);
  assert.equal(
    MAX_REQUEST_ID + 1,
    Number.MAX_SAFE_INTEGER,
    "the id after the largest is still exact",
  );
  for (const bad of ["0", "-1", "1e3", " 7", "18446744073709551615", ""]) {
    assert.throws(() => parseRequestId(bad), DecodeError, bad);
  }
});

test("acknowledging through an id forgets exactly the results up to it, and their bytes", () => {
  const log = new ResumeLog({ maxEntries: 16, maxBytes: 1 << 20 });
  const read = (n: number) => ({ op: "readMemory", ret: 0, data: Buffer.alloc(n) }) as const;
  log.record(1, read(10));
  log.record(2, OK);
  log.record(3, read(100));
  log.record(5, read(1000));
  log.acknowledge(3);
  assert.deepEqual(
    [...log.results()].map(([id]) => id),
    [5],
  );
  assert.equal(log.heldBytes, 1000);
  assert.equal(log.decide(3).kind, "forgotten");
  assert.equal(log.decide(5).kind, "replay");
  log.acknowledge(4);
  assert.equal(log.size, 1, "no result between 4 and 5: nothing more to forget");
  log.acknowledge(5);
  assert.deepEqual([log.size, log.heldBytes, log.lastExecuted], [0, 0, 5]);
});

/**
 * The log as first written: a Map of the unacknowledged results in id order, oldest evicted
 * first. The array log must answer exactly as it does.
 */
class ReferenceLog {
  highest = 0;
  readonly entries = new Map<number, HypercallResult>();
  bytes = 0;
  constructor(private readonly limits: { maxEntries: number; maxBytes: number }) {}
  record(id: number, result: HypercallResult): void {
    this.highest = id;
    this.entries.set(id, result);
    this.bytes += result.op === "readMemory" ? result.data.length : 0;
    while (
      this.entries.size > this.limits.maxEntries ||
      (this.bytes > this.limits.maxBytes && this.entries.size > 1)
    ) {
      const first = this.entries.entries().next();
      if (first.done === true) break;
      this.forget(...first.value);
    }
  }
  acknowledge(through: number): void {
    for (const [id, r] of this.entries) {
      if (id > through) break;
      this.forget(id, r);
    }
  }
  private forget(id: number, r: HypercallResult): void {
    this.entries.delete(id);
    this.bytes -= r.op === "readMemory" ? r.data.length : 0;
  }
}

test("at-most-once: the resume log keeps, replays, forgets and evicts exactly as a map of unacknowledged results would (seeded)", () => {
  const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`resume-log seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
  const random = seededRandom(seed);
  const below = (n: number) => Math.floor(random() * n);
  for (let run = 0; run < 20; run++) {
    const limits = { maxEntries: 1 + below(600), maxBytes: 1 + below(20_000) };
    const log = new ResumeLog(limits);
    const ref = new ReferenceLog(limits);
    let next = 1;
    for (let step = 0; step < 3_000; step++) {
      const what = random();
      if (what < 0.6) {
        // Mostly the next id; sometimes a jump, as a guest that lost calls to a link drop.
        next += random() < 0.9 ? 1 : 1 + below(50);
        const result: HypercallResult =
          random() < 0.3
            ? { op: "readMemory", ret: 0, data: Buffer.alloc(below(2_000)) }
            : { op: "writeMemory", ret: -below(3) };
        log.record(next, result);
        ref.record(next, result);
      } else if (what < 0.8) {
        const through = Math.max(0, next - below(700));
        log.acknowledge(through);
        ref.acknowledge(through);
      } else {
        const asked = 1 + below(next + 5);
        const got = log.decide(asked);
        const kept = ref.entries.get(asked);
        const expected =
          asked > ref.highest ? "execute" : kept === undefined ? "forgotten" : "replay";
        assert.equal(got.kind, expected, `seed ${seed} run ${run} step ${step}: id ${asked}`);
        if (got.kind === "replay") assert.equal(got.result, kept);
      }
      assert.equal(log.size, ref.entries.size, `seed ${seed} run ${run} step ${step}: size`);
      assert.equal(log.heldBytes, ref.bytes, `seed ${seed} run ${run} step ${step}: bytes`);
    }
    assert.deepEqual(
      [...log.results()],
      [...ref.entries],
      `seed ${seed} run ${run}: what a snapshot keeps`,
    );
  }
});

test("a snapshot's resume log is refused, naming the id, when its ids do not increase up to its last executed id", () => {
  const cases: [number, [number, HypercallResult][], string][] = [
    [
      9,
      [
        [4, OK],
        [4, OK],
      ],
      "4 follows 4",
    ],
    [
      9,
      [
        [5, OK],
        [3, OK],
      ],
      "3 follows 5",
    ],
    [9, [[10, OK]], "10 follows 0"],
  ];
  for (const [highest, results, named] of cases) {
    const log = new ResumeLog({ maxEntries: 16, maxBytes: 1024 });
    assert.throws(() => {
      log.restore(highest, results);
    }, new RegExp(named));
    assert.deepEqual([log.size, log.lastExecuted], [0, 0], "nothing restored");
  }
  const log = new ResumeLog({ maxEntries: 16, maxBytes: 1024 });
  log.restore(9, [
    [2, OK],
    [9, OK],
  ]);
  assert.deepEqual(
    [log.decide(2).kind, log.decide(5).kind, log.decide(10).kind],
    ["replay", "forgotten", "execute"],
  );
});

test("only a new request id is recorded: an id at or below the last executed one throws and changes nothing", () => {
  const log = new ResumeLog({ maxEntries: 16, maxBytes: 1024 });
  log.record(3, OK);
  for (const stale of [3, 2]) {
    assert.throws(
      () => {
        log.record(stale, OK);
      },
      new RegExp(`request id ${stale} recorded after 3`),
    );
  }
  assert.deepEqual([log.size, log.lastExecuted, [...log.results()].map(([id]) => id)], [1, 3, [3]]);
});

test("a guest that never acknowledges, or acknowledges late, holds at most twice the window of resume-log slots", () => {
  for (const [window, ackLag] of [
    [4096, Number.POSITIVE_INFINITY],
    [4096, 5000],
    [4096, 100],
    [16, Number.POSITIVE_INFINITY],
  ] as const) {
    const log = new ResumeLog({ maxEntries: window, maxBytes: 1 << 30 });
    let most = 0;
    for (let id = 1; id <= 50_000; id++) {
      log.record(id, OK);
      if (id % 64 === 0 && Number.isFinite(ackLag)) log.acknowledge(id - ackLag);
      most = Math.max(most, log.slots);
    }
    const bound = 2 * Math.max(window, 256);
    assert.ok(most <= bound, `window ${window}, ack lag ${ackLag}: ${most} slots > ${bound}`);
    assert.ok(log.size <= window, `window ${window}: ${log.size} results kept`);
  }
});
