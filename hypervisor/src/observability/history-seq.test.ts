// SPDX-License-Identifier: Apache-2.0
/**
 * The history's seq across restarts (history-seq.ts): a restarted run continues past every seq
 * the earlier run could have used — exactly after a clean stop, past its reservation after a
 * kill — and a subscriber resuming with `since` from the earlier run gets a `gap` with
 * `"cause":"restart"` covering what the restart lost, then the new run's events. A damaged seq
 * file is refused by name and left as it was.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { afterEach, beforeEach, describe, test } from "node:test";
import { History, NO_DOMID, RESTART_GAP_REASON, type HistorySink } from "./history.js";
import { HISTORY_SEQ_FILE, HistorySeqError, HistorySeqFile } from "./history-seq.js";

type Line = Readonly<Record<string, unknown>> & { readonly seq: number; readonly kind: string };

/** Collects what a subscription is sent. */
function collector(): HistorySink & { readonly lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    bufferedAmount: 0,
    send: (event) => lines.push(JSON.parse(Buffer.from(event).toString()) as Line),
    close: () => undefined,
  };
}

/** One run of a hypervisor's history over `dir`, its seq reserved 8 at a time. */
function run(dir: string): { history: History; seqFile: HistorySeqFile } {
  const history = new History({ capacity: 100, maxBufferedBytes: 1 << 20, maxLagEpisodes: 3 });
  const seqFile = new HistorySeqFile(dir, { fsync: false, block: 8 });
  history.continueFrom(seqFile);
  return { history, seqFile };
}

function events(h: History, n: number): number[] {
  return Array.from({ length: n }, () => h.append("virq", 1, NO_DOMID, { domid: 1, virq: 9 }));
}

describe("history seq across restarts", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hmx-history-seq-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("the first run of a state dir starts at seq 1 with no earlier run", () => {
    const { history, seqFile } = run(dir);
    assert.equal(seqFile.previous, undefined);
    assert.deepEqual(events(history, 3), [1, 2, 3]);
  });

  test("after a clean stop the next run starts exactly after the last seq, and a resuming subscriber gets an exact restart gap", async () => {
    const first = run(dir);
    const used = events(first.history, 20); // crosses two reservations of 8
    first.seqFile.close(first.history.nextSeq);

    const second = run(dir);
    assert.deepEqual(second.seqFile.previous, { nextSeq: 21, clean: true });
    const sink = collector();
    second.history.subscribe(sink, { since: 15, closeWhenBehind: true });
    const later = events(second.history, 2);
    await turn();
    assert.equal(later[0], Math.max(...used) + 1, "the seq continues, it does not go back to 1");
    const [gap, ...rest] = sink.lines;
    assert.deepEqual(
      {
        kind: gap?.kind,
        seq: gap?.seq,
        from: gap?.["from"],
        to: gap?.["to"],
        dropped: gap?.["dropped"],
        cause: gap?.["cause"],
        reason: gap?.["reason"],
      },
      {
        kind: "gap",
        seq: 20,
        from: 16,
        to: 20,
        dropped: 5,
        cause: "restart",
        reason: RESTART_GAP_REASON,
      },
    );
    assert.deepEqual(
      rest.map((e) => e.seq),
      [21, 22],
    );
  });

  test("after a kill the next run starts past the earlier run's reservation, never reusing a seq", async () => {
    const first = run(dir);
    const used = events(first.history, 20); // reservations through 8, 16, 24; no clean stop
    const second = run(dir);
    assert.deepEqual(second.seqFile.previous, { nextSeq: 25, clean: false });
    const sink = collector();
    second.history.subscribe(sink, { since: Math.max(...used), closeWhenBehind: true });
    const [next] = events(second.history, 1);
    await turn();
    assert.ok(next !== undefined && next > Math.max(...used), `seq ${next} is new`);
    assert.deepEqual(
      sink.lines.map((e) => [e.kind, e.seq, e["from"], e["cause"]]),
      [
        ["gap", 24, 21, "restart"],
        ["virq", 25, undefined, undefined],
      ],
      "the seqs reserved and never used are inside the gap: it covers at most the reservation",
    );
  });

  test("a subscriber starting after the restart gets no gap", async () => {
    const first = run(dir);
    events(first.history, 5);
    first.seqFile.close(first.history.nextSeq);
    const second = run(dir);
    const sink = collector();
    second.history.subscribe(sink, { closeWhenBehind: true });
    events(second.history, 2);
    await turn();
    assert.deepEqual(
      sink.lines.map((e) => [e.kind, e.seq]),
      [
        ["virq", 6],
        ["virq", 7],
      ],
    );
  });

  test("a damaged or foreign seq file is refused by name and left as it was", () => {
    const path = join(dir, HISTORY_SEQ_FILE);
    for (const text of [
      "{not json",
      '{"format":"other","version":1}',
      '{"format":"hmx-history-seq","version":1,"nextSeq":-3,"clean":true}',
    ]) {
      writeFileSync(path, text);
      assert.throws(
        () => new HistorySeqFile(dir, { fsync: false }),
        (err: unknown) => err instanceof HistorySeqError && err.message.includes(path),
      );
      assert.equal(readFileSync(path, "utf8"), text, "not overwritten");
    }
  });

  test("continuing is refused once someone subscribed (their cursors would be wrong)", () => {
    const history = new History({ capacity: 10, maxBufferedBytes: 1 << 20, maxLagEpisodes: 3 });
    history.subscribe(collector(), { closeWhenBehind: true });
    assert.throws(() => {
      history.continueFrom(new HistorySeqFile(dir, { fsync: false }));
    }, /before anyone subscribes/);
  });
});
