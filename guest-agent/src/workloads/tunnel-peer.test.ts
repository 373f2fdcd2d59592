// SPDX-License-Identifier: Apache-2.0
/** `--to NAME` resolution: a peer domain that is not there yet is waited for, not an exit. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FleetLogger, FleetPeer } from "./fleet.js";
import { resolvePeer } from "./tunnel.js";

function recordingLog(): { log: FleetLogger; warnings: string[] } {
  const warnings: string[] = [];
  const log: FleetLogger = {
    info: () => undefined,
    warn: (_obj, msg) => {
      warnings.push(msg);
    },
  };
  return { log, warnings };
}

const peer = (domid: number, name: string): FleetPeer => ({ domid, name, label: `${name}_t` });

test("a named peer that enrols late is waited for (a failed lookup too) and then resolved, with one warning while waiting", async () => {
  const { log, warnings } = recordingLog();
  let calls = 0;
  const listPeers = () => {
    calls++;
    return Promise.resolve(
      calls < 3 ? [peer(2, "other")] : [peer(2, "other"), peer(5, "app-redis")],
    );
  };
  const domid = await resolvePeer(
    { listPeers, log, signal: new AbortController().signal },
    "app-redis",
    5,
  );
  assert.equal(domid, 5);
  assert.equal(calls, 3, "looked up again until the peer appeared");
  assert.deepEqual(warnings, ["tunnel waiting for its peer domain to appear"]);
});

test("waiting for a named peer ends when the tunnel is stopped", async () => {
  const stop = new AbortController();
  const { log } = recordingLog();
  const pending = resolvePeer(
    { listPeers: () => Promise.resolve([]), log, signal: stop.signal },
    "gone",
    5,
  );
  setTimeout(() => {
    stop.abort();
  }, 30);
  assert.equal(await pending, undefined);
});

test("a domid in --to needs no lookup", async () => {
  const listPeers = () => Promise.reject(new Error("must not be called"));
  assert.equal(await resolvePeer({ listPeers, signal: new AbortController().signal }, 7), 7);
});
