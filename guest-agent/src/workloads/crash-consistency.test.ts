// SPDX-License-Identifier: Apache-2.0
/**
 * Crash consistency of a resuming guest (docs/state-guests.md "Killed at any instant"), against
 * the hypervisor core in process. A crash is modelled as the agent's client closing at a seeded
 * random point: a multicall it issued has then either run whole or not at all (an in-process
 * batch runs in one step), and nothing is written "at shutdown" because nothing more reaches the
 * hypervisor. The restarted agent is a new client of the same domain.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { propertySeed } from "@hmx/virtio/test-utils";
import { seededRandom } from "@hmx/hypervisor";
import { InProcessClient, InProcessHypervisor } from "../test-utils/in-process-client.js";
import { readAgentState } from "../libargo/agent-state.js";
import { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { readReceiveProgress } from "./checker-state.js";
import { numberedPayload, waitForPeer } from "./common.js";
import { newEchoStats, runEcho } from "./echo.js";
import { newPingStats, runPing, type PingStats } from "./ping.js";
import { newSinkStats, runSink, type SinkStats } from "./sink.js";
import { newTrafficStats, runTraffic } from "./traffic.js";

/** Lets the event loop turn `n` times (in-process batches run on setImmediate). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Runs a resuming sink for the domain until `until` resolves, then "kills" it. */
async function sinkLife(
  hv: InProcessHypervisor,
  domid: number,
  partner: number,
  until: (stats: SinkStats) => Promise<void>,
): Promise<SinkStats> {
  const client = new InProcessClient(hv, domid);
  const stats = newSinkStats();
  const stop = new AbortController();
  const endpoint = await ArgoEndpoint.create(client, { resume: true });
  const run = runSink(
    endpoint,
    { port: 9, partner, ringLen: 4096 - 64, signal: stop.signal },
    stats,
  );
  await until(stats);
  await client.close(); // the crash: nothing this agent does from here reaches the hypervisor
  stop.abort();
  await run.catch(() => undefined);
  await endpoint.close().catch(() => undefined);
  return stats;
}

/** Runs a resuming workload of the domain until `until` resolves, then "kills" it (as above). */
async function life<S>(
  hv: InProcessHypervisor,
  domid: number,
  stats: S,
  run: (endpoint: ArgoEndpoint, signal: AbortSignal, stats: S) => Promise<void>,
  until: (stats: S) => Promise<void>,
): Promise<S> {
  const client = new InProcessClient(hv, domid);
  const stop = new AbortController();
  const endpoint = await ArgoEndpoint.create(client, { resume: true });
  const running = run(endpoint, stop.signal, stats);
  await until(stats);
  await client.close();
  stop.abort();
  await running.catch(() => undefined);
  await endpoint.close().catch(() => undefined);
  return stats;
}

describe("crash-consistent guests", { timeout: 120_000 }, () => {
  it("the agent state lists a ring from the multicall that registered it, with no clean stop", async () => {
    const hv = new InProcessHypervisor();
    const peer = hv.createGuest();
    const client = hv.createGuest();
    const endpoint = await ArgoEndpoint.create(client, { resume: true });
    const socket = await endpoint.bind({ aport: 9, partner: peer.domid });
    const state = await readAgentState(client);
    assert.deepEqual(state?.rings, [socket.ringRecord]);
    await endpoint.close();
  });

  it("a sink killed at 30 seeded random points counts a 3,000-message stream exactly once: no false loss, no double count", async () => {
    const rand = seededRandom(propertySeed("crash-consistent sink"));
    const hv = new InProcessHypervisor();
    const txClient = hv.createGuest();
    const rxDomid = hv.createGuest().domid;
    const tx = await ArgoEndpoint.create(txClient);
    const N = 3000;
    const traffic = newTrafficStats();
    const sending = runTraffic(
      tx,
      { peer: rxDomid, port: 9, size: 64, count: N, rate: 0, signal: new AbortController().signal },
      traffic,
    );
    for (let k = 0; k < 30; k++) {
      const at = Math.floor(rand() * 300);
      await sinkLife(hv, rxDomid, txClient.domid, () => turns(at));
    }
    const final = await sinkLife(hv, rxDomid, txClient.domid, async (s) => {
      // Bounded, so a lost message fails the assertions below instead of hanging.
      for (let i = 0; s.received < N && i < 20_000; i++) await turns(10);
      await turns(100); // a message counted twice would show up now
    });
    await sending;
    assert.equal(traffic.sent, N);
    assert.deepEqual(
      {
        received: final.received,
        streams: final.streams,
        gaps: final.gaps,
        lost: final.lost,
        duplicates: final.duplicates,
        reordered: final.reordered,
      },
      { received: N, streams: 1, gaps: 0, lost: 0, duplicates: 0, reordered: 0 },
    );
    await tx.close();
  });

  it("a record whose rx store was cut off is right: the ring resumes from the recorded rx_ptr", async () => {
    const hv = new InProcessHypervisor();
    const txClient = hv.createGuest();
    const rxDomid = hv.createGuest().domid;
    const tx = await ArgoEndpoint.create(txClient);
    const out = await tx.bind({ partner: rxDomid });
    const dst = { domainId: rxDomid, aport: 9 };
    // First life: 5 messages counted and published.
    await sinkLife(hv, rxDomid, txClient.domid, async (s) => {
      await waitForPeer(tx, dst, new AbortController().signal, 1);
      for (let seq = 0; seq < 5; seq++) await out.sendTo(dst, numberedPayload(64, seq, 1));
      while (s.received < 5) await turns(5);
      await turns(20);
    });
    // Plant the cut-off case: the record says 5 messages further than the ring's rx_ptr.
    const rxClient = new InProcessClient(hv, rxDomid);
    const recorded = await readReceiveProgress(rxClient);
    assert.ok(recorded !== undefined);
    assert.equal(recorded.counters.received, 5);
    const state = await readAgentState(rxClient);
    const ring = state?.rings[0];
    assert.ok(ring !== undefined);
    // Rewind the header's rx_ptr to 0, as if the rx store after the record never ran.
    await rxClient.writeMemory(ring.gfn * 4096, Buffer.alloc(4));
    await rxClient.close();
    for (let seq = 5; seq < 10; seq++) await out.sendTo(dst, numberedPayload(64, seq, 1));
    const final = await sinkLife(hv, rxDomid, txClient.domid, async (s) => {
      for (let i = 0; s.received < 10 && i < 1000; i++) await turns(5);
      await turns(50);
    });
    assert.equal(final.received, 10);
    assert.equal(final.duplicates, 0, "the 5 counted messages were not read again");
    await tx.close();
  });

  it("an echo killed at 30 seeded random points answers every request it took: 4 pingers lose none of 300 pings", async () => {
    const rand = seededRandom(propertySeed("crash-consistent echo"));
    const hv = new InProcessHypervisor();
    const pingClient = hv.createGuest();
    const echoDomid = hv.createGuest().domid;
    const pinger = await ArgoEndpoint.create(pingClient);
    // Four pingers, so that one drain takes several requests: all but the first then wait
    // behind a reply batch in flight, the window where a consumed request could be lost.
    const stats = [0, 1, 2, 3].map(() => newPingStats());
    // A request taken and never answered shows as a lost ping after this timeout.
    const pinging = stats.map((s) =>
      runPing(
        pinger,
        {
          peer: echoDomid,
          port: 7,
          count: 75,
          intervalMs: 0,
          size: 16,
          timeoutMs: 2000,
          signal: new AbortController().signal,
        },
        s,
      ),
    );
    const total = (k: "next" | "received" | "lost" | "late"): number =>
      stats.reduce((sum, s) => sum + s[k], 0);
    const echo = (endpoint: ArgoEndpoint, signal: AbortSignal): Promise<void> =>
      runEcho(endpoint, { port: 7, partner: pingClient.domid, signal }, newEchoStats());
    for (let k = 0; k < 30; k++) {
      const at = Math.floor(rand() * 200);
      await life(hv, echoDomid, null, echo, () => turns(at));
    }
    await life(hv, echoDomid, null, echo, async () => {
      for (let i = 0; total("next") < 300 && i < 20_000; i++) await turns(10);
    });
    await Promise.all(pinging);
    assert.deepEqual(
      {
        next: total("next"),
        received: total("received"),
        lost: total("lost"),
        late: total("late"),
      },
      { next: 300, received: 300, lost: 0, late: 0 },
    );
    await pinger.close();
  });

  it("a pinger killed at 30 seeded random points carries its counters on: 300 pings, each answered once, none lost", async () => {
    const rand = seededRandom(propertySeed("crash-consistent pinger"));
    const hv = new InProcessHypervisor();
    const echoClient = hv.createGuest();
    const pingDomid = hv.createGuest().domid;
    const echoEndpoint = await ArgoEndpoint.create(echoClient);
    const stop = new AbortController();
    const echoing = runEcho(
      echoEndpoint,
      { port: 7, partner: pingDomid, signal: stop.signal },
      newEchoStats(),
    );
    const N = 300;
    // What each run had restored when it was ready to ping, and the most any run counted: a
    // run starts from that, less the one reply a kill may have caught counted but not on record.
    let atReady = Number.NaN;
    let most = 0;
    const ping = (endpoint: ArgoEndpoint, signal: AbortSignal, s: PingStats): Promise<void> =>
      runPing(
        endpoint,
        {
          peer: echoClient.domid,
          port: 7,
          count: N,
          intervalMs: 0,
          size: 16,
          signal,
          onReady: () => (atReady = s.received),
        },
        s,
      );
    for (let k = 0; k < 30; k++) {
      const at = Math.floor(rand() * 200);
      atReady = Number.NaN;
      const s = await life(hv, pingDomid, newPingStats(), ping, () => turns(at));
      if (!Number.isNaN(atReady))
        assert.ok(atReady >= most - 1, `run ${k} started from ${atReady} replies, not ${most}`);
      most = Math.max(most, s.received);
    }
    const final = await life(hv, pingDomid, newPingStats(), ping, async (s) => {
      for (let i = 0; s.next < N && i < 20_000; i++) await turns(10);
    });
    assert.deepEqual(
      { next: final.next, received: final.received, lost: final.lost, late: final.late },
      { next: N, received: N, lost: 0, late: 0 },
    );
    assert.equal(final.sent, N, "each ping counted sent once, however often it went out");
    stop.abort();
    await echoing;
    await echoEndpoint.close();
  });
});
