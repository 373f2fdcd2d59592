// SPDX-License-Identifier: Apache-2.0
/**
 * `@hmx/client`'s HistorySubscriber against a real `hmx hypervisor` process, through a TCP proxy
 * whose link is cut mid-run: it reconnects and resumes with `since`, so every event arrives
 * exactly once and in order; a `since` older than the window starts with the gap event.
 */
import { HistorySubscriber, type HistoryEvent } from "@hmx/client";
import { TcpProxy, Testbed } from "@hmx/testkit";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

const WINDOW = 100;
let bed: Testbed;
let http = "";

before(async () => {
  bed = await Testbed.start([
    "--http-listen",
    "127.0.0.1:0",
    "--history-window",
    String(WINDOW),
    "--history-from-boot",
  ]);
  http = String(bed.hypervisor.last("hypervisor ready")?.["httpListen"]);
});
after(async () => {
  await bed.stopAll();
});

/** Creates and destroys `n` domains: 2n domain events. */
async function churn(n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { domid } = await bed.toolstack.createDomain({
      name: `${tag}-${i}`,
      label: "churn_t",
      memoryBytes: 64 * 1024,
    });
    await bed.toolstack.destroyDomain(domid);
  }
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("a subscriber whose link is cut resumes with since: every event once, in order, none lost", async () => {
  const proxy = await TcpProxy.start(http);
  const seen: HistoryEvent[] = [];
  const sub = new HistorySubscriber({
    address: proxy.address,
    adminToken: bed.adminToken,
    retryDelayMs: 20,
    onEvent: (e) => seen.push(e),
  });
  try {
    await until("the first connection", () => sub.connections === 1);
    await churn(5, "before");
    await until("the first 10 events", () => seen.length >= 10);
    assert.ok(proxy.cut() > 0, "a live connection was cut");
    await churn(10, "during");
    await until("all 30 events", () => seen.length >= 30);
  } finally {
    sub.close();
    await proxy.close();
  }
  const seqs = seen.map((e) => e.seq);
  const first = seqs[0] ?? 0;
  assert.deepEqual(
    seqs,
    Array.from({ length: seqs.length }, (_, i) => first + i),
    "contiguous: nothing lost, nothing repeated",
  );
  assert.equal(seen.length, 30);
  assert.ok(sub.connections >= 2, `reconnected (${sub.connections} connections)`);
  assert.equal(sub.gaps, 0);
});

test("a since older than the retained window starts with a gap, then the window up to now", async () => {
  await churn(WINDOW, "flood"); // 2 x WINDOW events: the oldest have left the window
  const seen: HistoryEvent[] = [];
  const sub = new HistorySubscriber({
    address: http,
    adminToken: bed.adminToken,
    since: 0,
    until: "now",
    onEvent: (e) => seen.push(e),
  });
  const end = await sub.done;
  const [gap, ...rest] = seen;
  assert.equal(gap?.kind, "gap");
  assert.equal(gap["from"], 1);
  assert.equal(sub.gaps, 1);
  assert.equal(sub.droppedEvents, gap["dropped"]);
  assert.equal(rest[0]?.seq, Number(gap["to"]) + 1, "resumes right after what was lost");
  assert.equal(end.reason, "until");
  assert.equal(end.lastSeq, rest.at(-1)?.seq);
  assert.ok(rest.length <= WINDOW);
});
