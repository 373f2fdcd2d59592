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
