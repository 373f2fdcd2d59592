// SPDX-License-Identifier: Apache-2.0
/** JournalWriter: group commit per event-loop turn, before the turn's I/O; failures and retries. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { FILE_HEADER_BYTES, fileHeader, readJournal } from "./journal-format.js";
import { JournalWriter, type JournalFile } from "./journal-writer.js";

/** A journal file in memory that can be told to fail. */
class MemoryFile implements JournalFile {
  bytes = fileHeader();
  writes = 0;
  failing = false;
  writeAt(data: Buffer, position: number): void {
    this.writes++;
    if (this.failing) {
      // A short write before the error, as a full disk gives.
      this.bytes = Buffer.concat([this.bytes.subarray(0, position), data.subarray(0, 5)]);
      throw new Error("ENOSPC: no space left on device");
    }
    this.bytes = Buffer.concat([this.bytes.subarray(0, position), data]);
  }
  syncs = 0;
  sync(): void {
    this.syncs++;
  }
  truncate(length: number): void {
    this.bytes = this.bytes.subarray(0, length);
  }
  closed = false;
  close(): void {
    this.closed = true;
  }
}

function writerOn(file: MemoryFile, errors: Error[] = []): JournalWriter {
  return new JournalWriter(file, {
    length: FILE_HEADER_BYTES,
    fsync: false,
    onError: (err) => errors.push(err),
    onRecovered: () => undefined,
    retryMs: 60_000,
  });
}

test("the records of one event-loop turn are committed with one write, before the turn's I/O callbacks run", async () => {
  const file = new MemoryFile();
  const writer = writerOn(file);
  for (let i = 0; i < 50; i++) writer.append(Buffer.from(`record ${i}`));
  assert.equal(file.writes, 0, "nothing is written while the turn still runs");
  // setImmediate runs after the turn's microtasks: a reply queued in the turn leaves no earlier.
  const writesAtNextPhase = await new Promise<number>((resolve) =>
    setImmediate(() => {
      resolve(file.writes);
    }),
  );
  assert.equal(writesAtNextPhase, 1);
  assert.equal(readJournal("mem", file.bytes).records.length, 50);
  writer.close();
});

test("a failed commit leaves no partial record, keeps its records, and the retry writes them once", () => {
  const file = new MemoryFile();
  const errors: Error[] = [];
  const writer = writerOn(file, errors);
  writer.append(Buffer.from("one"));
  assert.equal(writer.commit(), true);
  file.failing = true;
  writer.append(Buffer.from("two"));
  assert.equal(writer.commit(), false);
  assert.match(writer.failure ?? "", /ENOSPC/);
  assert.equal(errors.length, 1);
  assert.equal(readJournal("mem", file.bytes).tornBytes, 0, "the short write was cut back");
  file.failing = false;
  writer.append(Buffer.from("three"));
  assert.equal(writer.commit(), true);
  assert.equal(writer.failure, undefined);
  assert.deepEqual(
    readJournal("mem", file.bytes).records.map((r) => r.payload.toString()),
    ["one", "two", "three"],
  );
  writer.close();
});

test("a record larger than the commit buffer is framed whole", () => {
  const file = new MemoryFile();
  const writer = writerOn(file);
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  writer.append(Buffer.from("small"));
  writer.append(big);
  assert.equal(writer.commit(), true);
  const records = readJournal("mem", file.bytes).records;
  assert.equal(records.length, 2);
  assert.ok(records[1]?.payload.equals(big));
  writer.close();
});

test("a record encoded in place is framed like an appended one, and one whose encoding throws leaves nothing behind", () => {
  const file = new MemoryFile();
  const writer = writerOn(file);
  const fill = (target: Buffer, offset: number, text: string): void => {
    if (text === "bad") throw new RangeError("value out of range");
    target.write(text, offset, "latin1");
  };
  writer.append(Buffer.from("one"));
  writer.appendInto(3, fill, "two");
  assert.throws(() => {
    writer.appendInto(3, fill, "bad");
  }, /out of range/);
  writer.appendInto(5, fill, "three");
  assert.equal(writer.commit(), true);
  assert.deepEqual(
    readJournal("mem", file.bytes).records.map((r) => r.payload.toString()),
    ["one", "two", "three"],
  );
  writer.close();
});
