// SPDX-License-Identifier: Apache-2.0
/**
 * `--history-file` across a restart with a state dir: the new run appends to the earlier run's
 * file, and when the seq jumps (a kill: the next run starts past the earlier reservation) a
 * `gap` line with `"cause":"restart"` covers the seqs between, as a WebSocket subscriber
 * resuming with `since` is told; after a clean stop the seq is exact and no gap is written; a
 * torn last line does not swallow the next run's first line.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { afterEach, beforeEach, describe, test } from "node:test";
import { History, NO_DOMID, RESTART_GAP_REASON } from "./history.js";
import { HistoryFile } from "./history-file.js";
import { HistorySeqFile } from "./history-seq.js";

type Line = Readonly<Record<string, unknown>> & { readonly seq: number; readonly kind: string };

describe("--history-file across restarts", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hmx-history-file-"));
    path = join(dir, "history.jsonl");
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** One run: its history over the state dir (seqs reserved 8 at a time) writing to the file. */
  async function run(events: number, clean: boolean): Promise<HistorySeqFile> {
    const history = new History({ capacity: 100, maxBufferedBytes: 1 << 20, maxLagEpisodes: 3 });
    const seqFile = new HistorySeqFile(dir, { fsync: false, block: 8 });
    history.continueFrom(seqFile);
    const file = new HistoryFile(path);
    file.follow(history);
    for (let i = 0; i < events; i++) history.append("virq", 1, NO_DOMID, { domid: 1, virq: 9 });
    await turn();
    await file.end();
    if (clean) seqFile.close(history.nextSeq);
    return seqFile;
  }

  function lines(): Line[] {
    return readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Line);
  }

  test("after a kill the file gets a restart gap covering the skipped seqs, then the new run", async () => {
    await run(5, false); // killed: its seq file still reserves through 8
    const second = await run(2, false);
    assert.equal(second.firstSeq, 9);
    const got = lines();
    assert.deepEqual(
      got.map((l) => l.seq),
      [1, 2, 3, 4, 5, 8, 9, 10],
    );
    const gap = got[5];
    assert.equal(gap?.kind, "gap");
    assert.equal(gap["from"], 6);
    assert.equal(gap["to"], 8);
    assert.equal(gap["cause"], "restart");
    assert.equal(gap["reason"], RESTART_GAP_REASON);
  });

  test("after a clean stop the file continues with the next seq and no gap", async () => {
    await run(5, true);
    await run(2, true);
    assert.deepEqual(
      lines().map((l) => [l.seq, l.kind]),
      [1, 2, 3, 4, 5, 6, 7].map((s) => [s, "virq"]),
    );
  });

  test("a torn last line stays on its own line: the next run's lines all parse", async () => {
    await run(3, false);
    appendFileSync(path, '{"seq":4,"time":"2026-12-');
    await run(1, false);
    const text = readFileSync(path, "utf8").split("\n");
    assert.equal(text[3], '{"seq":4,"time":"2026-12-');
    const after = text
      .slice(4)
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Line);
    assert.deepEqual(
      after.map((l) => [l.seq, l.kind]),
      [
        [8, "gap"],
        [9, "virq"],
      ],
    );
  });
});
