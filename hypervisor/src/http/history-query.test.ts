// SPDX-License-Identifier: Apache-2.0
/**
 * The `/v1/history` query: `last=N` asks for the newest N events; a bad N, or `last` with
 * `since`, is refused naming the value, like every other parameter.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryQueryError, parseHistoryQuery } from "./history-query.js";

const parse = (q: string) => parseHistoryQuery(new URLSearchParams(q));

test("last=N is passed on as a count, with the filters", () => {
  assert.deepEqual(parse("last=25&kinds=mac&domid=3"), {
    last: 25,
    filter: { kinds: new Set(["mac"]), domid: 3 },
  });
  assert.deepEqual(parse("last=1&until=now"), { last: 1, until: "now", filter: {} });
});

test("a last that is not a count of at least 1, or last with since, is refused naming it", () => {
  for (const [q, message] of [
    ["last=0", /last "0": expected a count of events, an integer >= 1/],
    ["last=-2", /last "-2": expected a count/],
    ["last=1e3", /last "1e3": expected a count/],
    ["last=", /last "": expected a count/],
    ["last=99999999999999999", /last "99999999999999999": expected a count/],
    ["last=3&since=4", /since and last are exclusive/],
  ] as const)
    assert.throws(
      () => parse(q),
      (err: Error) => err instanceof HistoryQueryError && message.test(err.message),
      q,
    );
});

test("format=binary is passed on, format=json too; any other format is refused naming it", () => {
  assert.deepEqual(parse("format=binary&since=3"), { format: "binary", since: 3, filter: {} });
  assert.deepEqual(parse("format=json"), { format: "json", filter: {} });
  assert.throws(
    () => parse("format=cbor"),
    (err: unknown) =>
      err instanceof HistoryQueryError &&
      err.message.includes(`format "cbor": expected json or binary`),
  );
});
