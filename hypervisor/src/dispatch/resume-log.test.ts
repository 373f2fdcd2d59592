// SPDX-License-Identifier: Apache-2.0
/**
 * Request ids cannot be used up by one call: an id that jumps more than MAX_REQUEST_ID_STEP past
 * the last executed one is refused naming the value and the step, and the log is unchanged; an id
 * whose successor is not an exact number (2^53 - 1) is refused when it is parsed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DecodeError, MAX_REQUEST_ID, parseRequestId } from "../grpc/codec.js";
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
