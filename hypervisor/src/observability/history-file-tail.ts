// SPDX-License-Identifier: Apache-2.0
/**
 * Where an existing `--history-file` left off, read before a new run appends to it: the seq of
 * its last whole line, and whether it ends inside a line (the process died mid-write). With it
 * the file gets the same `gap` (`"cause":"restart"`) a WebSocket subscriber resuming with
 * `since` gets, instead of a silent jump in the seq.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Enough of the tail to hold the last whole line (a history line is well under this). */
const TAIL_BYTES = 64 * 1024;
const LINE_START = /^\{"seq":(\d+)[,}]/;

export interface HistoryFileTail {
  /** The seq of the last whole line, or undefined (no file, empty, or no seq found). */
  readonly lastSeq: number | undefined;
  /** The file ends inside a line: the next run starts on a line of its own. */
  readonly torn: boolean;
}

export function readHistoryFileTail(path: string): HistoryFileTail {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return { lastSeq: undefined, torn: false }; // no file yet: nothing to continue
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const tail = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, tail, done, length - done, size - length + done);
      if (n === 0) break;
      done += n;
    }
    const text = tail.subarray(0, done).toString("utf8");
    const torn = text.length > 0 && !text.endsWith("\n");
    // Whole lines only: a torn last line (and the first, which the tail may cut) are skipped.
    const lines = text.split("\n").slice(size > length ? 1 : 0, -1);
    for (let i = lines.length - 1; i >= 0; i--) {
      const match = LINE_START.exec(lines[i] ?? "");
      if (match !== null) return { lastSeq: Number(match[1]), torn };
    }
    return { lastSeq: undefined, torn };
  } finally {
    closeSync(fd);
  }
}
