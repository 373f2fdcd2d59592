// SPDX-License-Identifier: Apache-2.0
/**
 * `refuseWhileDegraded`: while the journal fails, an authorised state-changing call is refused
 * with UNAVAILABLE naming the failure and the call, and never runs; everything else (a healthy
 * journal, an unauthorised caller, a call not named) reaches its handler unchanged.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";

import { STATE_CHANGING_TOOLSTACK_CALLS, refuseWhileDegraded } from "./refuse-while-degraded.js";

type Unary = grpc.handleUnaryCall<unknown, unknown>;

/** Handlers that count their runs, guarded by a journal whose failure the test sets. */
function guarded(authorised: boolean) {
  const ran: string[] = [];
  const handler =
    (name: string): Unary =>
    (_call, callback) => {
      ran.push(name);
      callback(null, {});
    };
  const state: { failure: string | undefined } = { failure: undefined };
  const handlers = refuseWhileDegraded(
    { CreateDomain: handler("CreateDomain"), ListDomains: handler("ListDomains") },
    ["CreateDomain"],
    { failure: () => state.failure, authorised: () => authorised },
  );
  /** Calls `method` and resolves with its status code (0: OK). */
  const call = (method: keyof typeof handlers) =>
    new Promise<{ code: number; details: string }>((resolve) => {
      const fakeCall = { metadata: new grpc.Metadata(), request: {} };
      handlers[method](fakeCall as unknown as Parameters<Unary>[0], (err) => {
        resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? "" });
      });
    });
  return { ran, state, call };
}

test("while the journal fails, an authorised state-changing call is refused with UNAVAILABLE naming the failure and the call, and does not run", async () => {
  const g = guarded(true);
  g.state.failure = "state journal write failed: ENOSPC: no space left on device";
  const refused = await g.call("CreateDomain");
  assert.equal(refused.code, grpc.status.UNAVAILABLE);
  assert.match(refused.details, /ENOSPC.*CreateDomain changes state/);
  assert.deepEqual(g.ran, []);
  // A read is still served; once the journal writes again, the change runs.
  assert.equal((await g.call("ListDomains")).code, grpc.status.OK);
  g.state.failure = undefined;
  assert.equal((await g.call("CreateDomain")).code, grpc.status.OK);
  assert.deepEqual(g.ran, ["ListDomains", "CreateDomain"]);
});

test("an unauthorised caller reaches the handler (which refuses it as before) and learns nothing of the disk", async () => {
  const g = guarded(false);
  g.state.failure = "state journal write failed: EIO";
  assert.equal((await g.call("CreateDomain")).code, grpc.status.OK);
  assert.deepEqual(g.ran, ["CreateDomain"]);
});

test("guarding a method the service does not have is an error naming it", () => {
  assert.throws(
    () =>
      refuseWhileDegraded({}, STATE_CHANGING_TOOLSTACK_CALLS, {
        failure: () => undefined,
        authorised: () => true,
      }),
    /no handler CreateDomain to guard/,
  );
});
