// SPDX-License-Identifier: Apache-2.0
/**
 * The history's rules: strictly increasing seqs and RFC 3339 nanosecond times, resume with
 * `since` from the retained window (or a gap saying what was lost), filters, and the bounded
 * queue of a slow subscriber (skipped ahead with a gap, or closed when it does not read).
 */
import assert from "node:assert/strict";
import { setImmediate as turn } from "node:timers/promises";
import { describe, test } from "node:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HISTORY_CLOSE, History, NO_DOMID, type HistorySink } from "./history.js";
import { HistoryFile } from "./history-file.js";
import { RecordingObserver } from "./recording-observer.js";
import { Rfc3339Clock } from "./rfc3339-clock.js";

interface Event {
  seq: number;
  time: string;
  kind: string;
  from?: number;
  to?: number;
  dropped?: number;
}

/** A sink that keeps what it is sent; `queued` stands for bytes its consumer has not taken. */
class FakeSink implements HistorySink {
  readonly events: Event[] = [];
  queued = 0;
  reading = true;
  closed: { code: number; reason: string } | undefined;
  get bufferedAmount(): number {
    return this.queued;
  }
  send(event: Uint8Array): void {
    this.events.push(JSON.parse(Buffer.from(event).toString()) as Event);
    if (!this.reading) this.queued += event.length;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
}

function history(capacity = 100, maxBufferedBytes = 1 << 20, maxLagEpisodes = 3): History {
  return new History({ capacity, maxBufferedBytes, maxLagEpisodes });
}

function fill(h: History, n: number, domid = 1): void {
  for (let i = 0; i < n; i++) h.append("virq", domid, NO_DOMID, { domid, virq: 9 });
}

describe("history", () => {
  test("every event has a strictly increasing seq, an RFC 3339 nanosecond time and its kind", async () => {
    const h = history();
    const sink = new FakeSink();
    h.subscribe(sink, { closeWhenBehind: true });
    h.append("domain", 1, NO_DOMID, { domid: 1, event: "created" });
    h.append("hypercall", 1, 2, { type: "ok", f: "sendv" });
    h.append("link", 1, NO_DOMID, {});
    await turn();
    assert.deepEqual(
      sink.events.map((e) => [e.seq, e.kind]),
      [
        [1, "domain"],
        [2, "hypercall"],
        [3, "link"],
      ],
    );
    for (const e of sink.events) assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const times = sink.events.map((e) => e.time);
    assert.deepEqual([...times].sort(), times, "times never go backwards");
  });

  test("the clock formats nanoseconds from its anchor and carries across a second", () => {
    const clock = new Rfc3339Clock(Date.UTC(2026, 0, 2, 3, 4, 5, 999), 1000);
    assert.equal(clock.format(1000), "2026-01-02T03:04:05.999000000Z");
    assert.equal(clock.format(1001.000123), "2026-01-02T03:04:06.000000123Z");
    assert.equal(clock.format(4000.5), "2026-01-02T03:04:08.999500000Z");
  });

  test("a subscriber resuming with since gets every later event exactly once", async () => {
    const h = history();
    fill(h, 10);
    const sink = new FakeSink();
    h.subscribe(sink, { since: 4, closeWhenBehind: true });
    fill(h, 5);
    await turn();
    assert.deepEqual(
      sink.events.map((e) => e.seq),
      Array.from({ length: 11 }, (_, i) => i + 5),
    );
  });

  test("a since older than the retained window starts with a gap naming what was lost", async () => {
    const h = history(10);
    fill(h, 25); // seqs 16..25 retained
    const sink = new FakeSink();
    h.subscribe(sink, { since: 3, closeWhenBehind: true });
    await turn();
    const [gap, ...rest] = sink.events;
    assert.deepEqual(
      { kind: gap?.kind, seq: gap?.seq, from: gap?.from, to: gap?.to, dropped: gap?.dropped },
      { kind: "gap", seq: 15, from: 4, to: 15, dropped: 12 },
    );
    assert.deepEqual(
      rest.map((e) => e.seq),
      Array.from({ length: 10 }, (_, i) => i + 16),
    );
  });

  test("a since beyond the newest event is refused, naming both seqs", () => {
    const h = history();
    fill(h, 3);
    assert.throws(
      () => h.subscribe(new FakeSink(), { since: 7, closeWhenBehind: true }),
      /since 7 .*newest event \(3\)/,
    );
  });

  test("until ends the subscription with 1000 once every event up to it was sent, later ones withheld", async () => {
    const h = history();
    fill(h, 6);
    const sink = new FakeSink();
    h.subscribe(sink, { since: 2, until: 4, closeWhenBehind: true });
    fill(h, 3);
    await turn();
    assert.deepEqual(
      sink.events.map((e) => e.seq),
      [3, 4],
    );
    assert.equal(sink.closed?.code, HISTORY_CLOSE.DONE);
    assert.equal(h.subscriberCount, 0, "the subscription is gone");
  });

  test("until now ends at the newest event at subscribe time, also when filters match nothing", async () => {
    const h = history();
    fill(h, 5);
    const all = new FakeSink();
    h.subscribe(all, { since: 0, until: "now", closeWhenBehind: true });
    const none = new FakeSink();
    h.subscribe(none, {
      since: 0,
      until: "now",
      filter: { kinds: new Set(["mac"]) },
      closeWhenBehind: true,
    });
    fill(h, 2);
    await turn();
    assert.deepEqual(
      all.events.map((e) => e.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(all.closed?.code, HISTORY_CLOSE.DONE);
    assert.deepEqual(none.events, []);
    assert.equal(none.closed?.code, HISTORY_CLOSE.DONE, "no match still ends");
  });

  test("last N starts with the newest N retained events its filter passes, fewer if the window holds fewer, then follows", async () => {
    const h = history(10);
    for (let i = 0; i < 14; i++) h.append(i % 2 === 0 ? "virq" : "mac", i % 3, NO_DOMID, { i }); // seqs 1..14; 5..14 kept
    const tail = new FakeSink();
    h.subscribe(tail, { last: 3, closeWhenBehind: true });
    const macs = new FakeSink();
    h.subscribe(macs, {
      last: 2,
      until: "now",
      filter: { kinds: new Set(["mac"]) },
      closeWhenBehind: true,
    });
    const domain1 = new FakeSink();
    h.subscribe(domain1, { last: 100, filter: { domid: 1 }, closeWhenBehind: true });
    fill(h, 1, 7); // seq 15
    await turn();
    assert.deepEqual(
      tail.events.map((e) => e.seq),
      [12, 13, 14, 15],
      "the last 3, then live events",
    );
    assert.deepEqual(
      macs.events.map((e) => e.seq),
      [12, 14],
    );
    assert.equal(macs.closed?.code, HISTORY_CLOSE.DONE);
    // Domain 1 is in seqs 2, 5, 8, 11, 14: only the retained ones, and no gap for the rest.
    assert.deepEqual(
      domain1.events.map((e) => [e.seq, e.kind]),
      [
        [5, "virq"],
        [8, "mac"],
        [11, "virq"],
        [14, "mac"],
      ],
    );
  });

  test("last is refused when not a positive integer or given with since, and nothing is subscribed", () => {
    const h = history();
    fill(h, 3);
    for (const last of [0, -1, 1.5, Number.NaN])
      assert.throws(
        () => h.subscribe(new FakeSink(), { last, closeWhenBehind: true }),
        new RegExp(`last ${String(last)}: expected a positive integer`),
      );
    assert.throws(
      () => h.subscribe(new FakeSink(), { last: 2, since: 1, closeWhenBehind: true }),
      /since and last are exclusive/,
    );
    assert.equal(h.subscriberCount, 0);
  });

  test("an until inside the lost part of the window ends after the gap, with no retained event", async () => {
    const h = history(10);
    fill(h, 25); // seqs 16..25 retained
    const sink = new FakeSink();
    h.subscribe(sink, { since: 3, until: 8, closeWhenBehind: true });
    await turn();
    assert.deepEqual(
      sink.events.map((e) => [e.kind, e.seq, e.to]),
      [["gap", 8, 8]],
    );
    assert.equal(sink.closed?.code, HISTORY_CLOSE.DONE);
  });

  test("the recording observer records nothing before the first subscriber unless told to record from boot", () => {
    const lazy = history();
    new RecordingObserver(lazy, undefined).virq(1, 9);
    assert.equal(lazy.nextSeq, 1, "not recording yet: nobody asked");
    const eager = history();
    eager.startRecording();
    new RecordingObserver(eager, undefined).virq(1, 9);
    assert.equal(eager.nextSeq, 2, "--history-from-boot: recorded before any subscriber");
  });

  test("kinds and domid filters pass only matching events (a sendv matches both its domains)", async () => {
    const h = history();
    const byKind = new FakeSink();
    const byDomain = new FakeSink();
    h.subscribe(byKind, {
      filter: { kinds: new Set(["hypercall", "link"]) },
      closeWhenBehind: true,
    });
    h.subscribe(byDomain, { filter: { domid: 2 }, closeWhenBehind: true });
    h.append("hypercall", 1, 2, { f: "sendv" });
    h.append("virq", 2, NO_DOMID, {});
    h.append("link", 3, NO_DOMID, {});
    h.append("hypercall", 3, NO_DOMID, { f: "notify" });
    await turn();
    assert.deepEqual(
      byKind.events.map((e) => e.seq),
      [1, 3, 4],
    );
    assert.deepEqual(
      byDomain.events.map((e) => e.seq),
      [1, 2],
    );
  });

  test("a subscriber that does not read holds at most the byte bound, and is closed when overtaken", async () => {
    const max = 2000;
    const h = history(50, max);
    const sink = new FakeSink();
    sink.reading = false;
    h.subscribe(sink, { closeWhenBehind: true });
    let longest = 0;
    for (let i = 0; i < 500 && sink.closed === undefined; i++) {
      fill(h, 1);
      await turn();
      longest = Math.max(longest, sink.queued);
    }
    const line = 120; // one event's frame is well under this
    assert.ok(longest <= max + line, `queue peaked at ${longest} bytes, bound ${max}`);
    assert.ok(h.peakBufferedBytes <= max + line, `peak ${h.peakBufferedBytes}`);
    assert.equal(sink.closed?.code, HISTORY_CLOSE.NOT_READING, JSON.stringify(sink.closed));
    assert.equal(h.subscriberCount, 0);
  });

  test("a subscriber overtaken after its queue drained gets a gap and skips ahead; repeatedly, it is closed", async () => {
    const h = history(20, 1000, 2);
    const sink = new FakeSink();
    h.subscribe(sink, { closeWhenBehind: true });
    for (let episode = 1; episode <= 3; episode++) {
      fill(h, 100); // overtakes the 20-event window before the next pump
      await turn();
      fill(h, 1);
      await turn();
      if (episode <= 2) {
        const gaps = sink.events.filter((e) => e.kind === "gap");
        assert.equal(gaps.length, episode, `episode ${episode}: one gap per overtaking`);
        assert.equal(sink.closed, undefined);
      }
    }
    assert.equal(sink.closed?.code, HISTORY_CLOSE.FELL_BEHIND, JSON.stringify(sink.closed));
    const seqs = sink.events.map((e) => e.seq);
    assert.deepEqual(
      [...seqs].sort((a, b) => a - b),
      seqs,
      "seqs, gaps included, only increase",
    );
    assert.equal(new Set(seqs).size, seqs.length, "no seq is sent twice");
  });

  test("a file-like subscriber is never closed: it waits for its queue, then gets the gap", async () => {
    const h = history(20, 1000);
    const sink = new FakeSink();
    h.subscribe(sink, { closeWhenBehind: false });
    sink.reading = false;
    sink.queued = 1000; // its writes are stuck (a slow disk)
    fill(h, 100);
    await turn();
    assert.equal(
      sink.events.some((e) => e.kind === "gap"),
      false,
      "no gap while the queue is full",
    );
    sink.reading = true;
    sink.queued = 0;
    fill(h, 1);
    await turn();
    assert.equal(sink.closed, undefined);
    const gap = sink.events.find((e) => e.kind === "gap");
    assert.ok(gap !== undefined, "a gap says what the file missed");
    assert.equal(sink.events.at(-1)?.seq, 101);
  });

  test("the byte ring keeps every retained event intact as it wraps, retiring only the oldest", () => {
    const seed = Number(process.env["HMX_TEST_SEED"] ?? Date.now() % 100000);
    console.log(`seed ${seed}`);
    let x = seed;
    const h = new History({
      capacity: 1000,
      maxBufferedBytes: 1 << 20,
      maxLagEpisodes: 3,
      maxBytes: 4096,
    });
    for (let round = 0; round < 40; round++) {
      const n = 1 + (round % 7);
      for (let k = 0; k < n; k++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        h.append("hypercall", 1, NO_DOMID, { pad: "é".repeat(x % 200) });
      }
      const sink = new FakeSink();
      h.subscribe(sink, { since: h.oldestSeq - 1, closeWhenBehind: true }).cancel();
      const seqs = sink.events.map((e) => e.seq);
      assert.ok(seqs.length > 0, `round ${round}: something is retained`);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => h.oldestSeq + i),
      );
      assert.equal(seqs.at(-1), h.nextSeq - 1, "the newest event is always retained");
    }
  });

  test("--history-file writes each event as one JSON line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hmx-history-"));
    try {
      const h = history();
      const file = new HistoryFile(join(dir, "history.jsonl"));
      file.follow(h);
      fill(h, 5);
      await turn();
      await file.end();
      const lines = readFileSync(join(dir, "history.jsonl"), "utf8").trimEnd().split("\n");
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as Event).seq),
        [1, 2, 3, 4, 5],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
