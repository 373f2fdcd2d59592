// SPDX-License-Identifier: Apache-2.0
/**
 * The fleet workload keeps a bounded number of listeners on its stop signal, however many peers
 * it streams to and however many messages it sends: every guest of a container fleet printed
 * node's "MaxListenersExceededWarning: Possible EventTarget memory leak detected. 11 abort
 * listeners" into its JSON log, because each peer's stream held its own listener while pacing.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import { InProcessHypervisor } from "../test-utils/in-process-client.js";
import { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { newFleetStats, runFleet, type FleetPeer } from "./fleet.js";
import { sleepUnlessAborted } from "./common.js";

const PORT = 5000;

describe("abort listeners on a workload's stop signal", { timeout: 60_000 }, () => {
  it("a fleet guest streaming to 16 peers holds at most 3 listeners on its stop signal", async () => {
    const hv = new InProcessHypervisor({ macPermissive: true });
    const endpoints = await Promise.all(
      Array.from({ length: 17 }, () => ArgoEndpoint.create(hv.createGuest())),
    );
    const [self, ...others] = endpoints;
    assert.ok(self !== undefined);
    // The peers only need a ring to send into; what they receive is drained and dropped.
    const sockets = await Promise.all(
      others.map((e) => e.bind({ aport: PORT, partner: ARGO_DOMID_ANY })),
    );
    const drains = sockets.map(async (s) => {
      while ((await s.receive()) !== null);
    });
    const peers: FleetPeer[] = others.map((e) => ({
      domid: e.client.domid,
      name: `g${e.client.domid}`,
      label: "guest_t",
    }));
    const stop = new AbortController();
    const stats = newFleetStats();
    const run = runFleet(
      self,
      {
        signal: stop.signal,
        port: PORT,
        size: 64,
        rate: 20,
        refreshMs: 50,
        listPeers: () => Promise.resolve(peers),
      },
      stats,
    );
    let most = 0;
    // Sample while every stream runs (bounded by a message count, not by time).
    for (let i = 0; i < 2000 && stats.sent < 400; i++) {
      most = Math.max(most, getEventListeners(stop.signal, "abort").length);
      await sleep(2);
    }
    stop.abort();
    await run;
    for (const s of sockets) await s.close();
    await Promise.all(drains);
    assert.equal(stats.peers, 0);
    assert.ok(stats.sent >= 400, `the streams ran: ${stats.sent} sent`);
    assert.ok(most <= 3, `at most 3 abort listeners at once, saw ${most}`);
    assert.equal(getEventListeners(stop.signal, "abort").length, 0, "none left after the run");
  });

  it("sleepUnlessAborted: many concurrent and sequential sleeps share one listener", async () => {
    const stop = new AbortController();
    for (let i = 0; i < 100; i++) assert.equal(await sleepUnlessAborted(0, stop.signal), true);
    const pending = Array.from({ length: 50 }, () => sleepUnlessAborted(60_000, stop.signal));
    assert.equal(getEventListeners(stop.signal, "abort").length, 1);
    stop.abort();
    assert.deepEqual(new Set(await Promise.all(pending)), new Set([false]));
    assert.equal(
      await sleepUnlessAborted(60_000, stop.signal),
      false,
      "an aborted signal returns at once",
    );
  });
});
