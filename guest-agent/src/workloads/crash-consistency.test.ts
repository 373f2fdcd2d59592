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
});
