// SPDX-License-Identifier: Apache-2.0
/**
 * The workloads against the real hypervisor core (in process): traffic to sink with nothing
 * lost, duplicated or reordered; echo and ping round trips; the sink's sequence checker; the
 * latency histogram. Every loop is bounded by a count and by the test timeout.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { InProcessHypervisor } from "../test-utils/in-process-client.js";
import { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { LatencyHistogram, numberedPayload, readNumbered } from "./common.js";
import { newEchoStats, runEcho } from "./echo.js";
import { newPingStats, runPing } from "./ping.js";
import { newSinkStats, runSink, SequenceChecker } from "./sink.js";
import { newTrafficStats, runTraffic } from "./traffic.js";

async function guests(n: number, macPermissive = false): Promise<ArgoEndpoint[]> {
  const hv = new InProcessHypervisor({ macPermissive });
  return Promise.all(Array.from({ length: n }, () => ArgoEndpoint.create(hv.createGuest())));
}

describe("sink sequence checker", () => {
  const src = { domainId: 3, aport: 99 };
  const feed = (seqs: number[], tag = 1) => {
    const stats = newSinkStats();
    const c = new SequenceChecker(stats);
    for (const s of seqs) c.observe(src, numberedPayload(16, s, tag));
    return stats;
  };

  it("an in-order stream has no gaps, duplicates or reorders", () => {
    const s = feed([0, 1, 2, 3]);
    assert.deepEqual(
      {
        received: s.received,
        gaps: s.gaps,
        lost: s.lost,
        duplicates: s.duplicates,
        reordered: s.reordered,
        streams: s.streams,
      },
      { received: 4, gaps: 0, lost: 0, duplicates: 0, reordered: 0, streams: 1 },
    );
  });

  it("a skipped message is a gap and counts as lost", () => {
    const s = feed([0, 1, 4, 5]);
    assert.equal(s.gaps, 1);
    assert.equal(s.lost, 2);
  });

  it("a late message is reordered and no longer lost", () => {
    const s = feed([0, 2, 1, 3]);
    assert.equal(s.reordered, 1);
    assert.equal(s.lost, 0);
    assert.equal(s.duplicates, 0);
  });

  it("a repeated message is a duplicate", () => {
    const s = feed([0, 1, 1, 2]);
    assert.equal(s.duplicates, 1);
    assert.equal(s.reordered, 0);
  });

  it("streams are told apart by source and tag; each starts at 0", () => {
    const stats = newSinkStats();
    const c = new SequenceChecker(stats);
    c.observe(src, numberedPayload(12, 0, 1));
    c.observe(src, numberedPayload(12, 0, 2));
    c.observe({ domainId: 4, aport: 99 }, numberedPayload(12, 0, 1));
    c.observe(src, Buffer.alloc(5));
    assert.equal(stats.streams, 3);
    assert.equal(stats.duplicates, 0);
    assert.equal(stats.malformed, 1);
  });

  it("numbered payloads round-trip sequence numbers above 2^32", () => {
    const n = readNumbered(numberedPayload(20, 2 ** 40 + 7, 0xdeadbeef));
    assert.deepEqual(n, { seq: 2 ** 40 + 7, tag: 0xdeadbeef });
  });
});

describe("latency histogram", () => {
  it("percentiles land within a bucket (~4.4 %) of the exact value", () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 10);
    assert.ok(Math.abs(h.percentile(50) - 5000) / 5000 < 0.05, String(h.percentile(50)));
    assert.ok(Math.abs(h.percentile(99) - 9900) / 9900 < 0.05, String(h.percentile(99)));
    assert.equal(h.min, 10);
    assert.equal(h.max, 10000);
    assert.equal(new LatencyHistogram().percentile(50), 0);
  });
});

describe("workloads", { timeout: 60_000 }, () => {
  it("traffic to sink: 10,000 numbered messages arrive with zero gaps, duplicates or reorders", async () => {
    const [tx, rx] = await guests(2);
    assert.ok(tx && rx);
    const stop = new AbortController();
    const sinkStats = newSinkStats();
    const N = 10_000;
    // A small ring so that the sender hits full rings (EAGAIN) many times on the way.
    const sink = runSink(
      rx,
      { port: 9, partner: tx.domid, ringLen: 4096, count: N, signal: stop.signal },
      sinkStats,
    );
    const trafficStats = newTrafficStats();
    await runTraffic(
      tx,
      { peer: rx.domid, port: 9, size: 64, count: N, rate: 0, signal: stop.signal },
      trafficStats,
    );
    await Promise.race([
      sink,
      sleep(30_000, undefined, { ref: false }).then(() => assert.fail("sink did not finish")),
    ]);
    assert.equal(trafficStats.sent, N);
    assert.equal(trafficStats.errors, 0);
    assert.ok(trafficStats.eagains > 0, "the 4 KiB ring filled up at least once");
    assert.deepEqual(
      {
        received: sinkStats.received,
        streams: sinkStats.streams,
        gaps: sinkStats.gaps,
        lost: sinkStats.lost,
        duplicates: sinkStats.duplicates,
        reordered: sinkStats.reordered,
      },
      { received: N, streams: 1, gaps: 0, lost: 0, duplicates: 0, reordered: 0 },
    );
    await Promise.all([tx.close(), rx.close()]);
  });

  it("traffic waits for the sink to bind instead of losing its first messages", async () => {
    const [tx, rx] = await guests(2);
    assert.ok(tx && rx);
    const stop = new AbortController();
    const trafficStats = newTrafficStats();
    const traffic = runTraffic(
      tx,
      { peer: rx.domid, port: 9, size: 32, count: 50, rate: 0, signal: stop.signal },
      trafficStats,
    );
    await sleep(300); // the sender polls for a ring that does not exist yet
    const sinkStats = newSinkStats();
    await Promise.all([
      traffic,
      runSink(rx, { port: 9, partner: tx.domid, count: 50, signal: stop.signal }, sinkStats),
    ]);
    assert.equal(sinkStats.received, 50);
    assert.equal(sinkStats.lost, 0);
    assert.equal(trafficStats.errors, 0);
    await Promise.all([tx.close(), rx.close()]);
  });

  it("traffic at a fixed rate sends roughly that many messages per second", async () => {
    const [tx, rx] = await guests(2);
    assert.ok(tx && rx);
    const stop = new AbortController();
    const sinkStats = newSinkStats();
    const sink = runSink(
      rx,
      { port: 9, partner: tx.domid, count: 100, signal: stop.signal },
      sinkStats,
    );
    const t0 = performance.now();
    await runTraffic(
      tx,
      { peer: rx.domid, port: 9, size: 16, count: 100, rate: 500, signal: stop.signal },
      newTrafficStats(),
    );
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 150 && elapsed < 2000, `100 messages at 500/s took ${elapsed} ms`);
    await sink;
    assert.equal(sinkStats.received, 100);
    await Promise.all([tx.close(), rx.close()]);
  });

  it("echo and ping: every ping comes back from the echo peer and RTTs are measured", async () => {
    const [e, p] = await guests(2);
    assert.ok(e && p);
    const stop = new AbortController();
    const echoStats = newEchoStats();
    let ready = false;
    const echo = runEcho(
      e,
      { port: 7, partner: p.domid, signal: stop.signal, onReady: () => (ready = true) },
      echoStats,
    );
    const pingStats = newPingStats();
    await runPing(
      p,
      { peer: e.domid, port: 7, count: 20, intervalMs: 1, size: 64, signal: stop.signal },
      pingStats,
    );
    assert.ok(ready);
    assert.equal(pingStats.sent, 20);
    assert.equal(pingStats.received, 20);
    assert.equal(pingStats.lost, 0);
    assert.ok(pingStats.rttP50Us > 0 && pingStats.rttP99Us >= pingStats.rttP50Us);
    assert.deepEqual(
      JSON.parse(JSON.stringify(pingStats)),
      pingStats,
      "stats are plain JSON numbers",
    );
    stop.abort();
    await echo;
    assert.equal(echoStats.received, 20);
    assert.equal(echoStats.sent, 20);
    await Promise.all([e.close(), p.close()]);
  });

  it("echo on a wildcard port answers several peers when the hypervisor is mac-permissive", async () => {
    const [e, p1, p2] = await guests(3, true);
    assert.ok(e && p1 && p2);
    const stop = new AbortController();
    const echoStats = newEchoStats();
    const echo = runEcho(e, { port: 7, signal: stop.signal }, echoStats);
    const s1 = newPingStats();
    const s2 = newPingStats();
    await Promise.all([
      runPing(
        p1,
        { peer: e.domid, port: 7, count: 5, intervalMs: 0, size: 12, signal: stop.signal },
        s1,
      ),
      runPing(
        p2,
        { peer: e.domid, port: 7, count: 5, intervalMs: 0, size: 12, signal: stop.signal },
        s2,
      ),
    ]);
    assert.equal(s1.received + s2.received, 10);
    stop.abort();
    await echo;
    await Promise.all([e.close(), p1.close(), p2.close()]);
  });

  it("a ping to a silent peer counts the pings as lost", async () => {
    const [p, q] = await guests(2);
    assert.ok(p && q);
    const stop = new AbortController();
    const black = await q.bind({ aport: 7, partner: p.domid }); // bound, never answers
    const stats = newPingStats();
    await runPing(
      p,
      {
        peer: q.domid,
        port: 7,
        count: 2,
        intervalMs: 0,
        size: 16,
        timeoutMs: 50,
        signal: stop.signal,
      },
      stats,
    );
    assert.equal(stats.sent, 2);
    assert.equal(stats.lost, 2);
    await black.close();
    await Promise.all([p.close(), q.close()]);
  });

  it("an aborted workload closes its socket and unregisters its ring", async () => {
    const [e] = await guests(1);
    assert.ok(e);
    const stop = new AbortController();
    const echo = runEcho(e, { port: 7, partner: e.domid, signal: stop.signal }, newEchoStats());
    await sleep(20);
    assert.equal(e.sockets.length, 1);
    stop.abort();
    await echo;
    assert.equal(e.sockets.length, 0);
    assert.equal(e.allocator.freePages, e.allocator.endGfn - 16);
    await e.close();
  });
});
