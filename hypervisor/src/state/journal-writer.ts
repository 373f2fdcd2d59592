// SPDX-License-Identifier: Apache-2.0
/**
 * Appends state records to the journal with group commit: records of one event-loop turn are
 * framed into one reusable buffer and written with one positional `write` in a microtask queued
 * by the turn's first record (one contiguous write: a gathered write of many small records costs
 * the kernel more than copying them here). gRPC replies reach the socket only after the microtask queue has drained (HTTP/2
 * frames are sent from a later libuv phase), so a guest never sees a result whose record is
 * not yet in the OS. With `fsync` each commit is also flushed to the device (machine crashes).
 *
 * A failed write (a full disk, an I/O error) keeps the records in memory, cuts the file back to
 * its last good length (a short write must not leave half a record before the retry), reports
 * the failure once, and retries on a timer; until a retry succeeds `failure` says why, and the
 * dispatcher refuses mutating hypercalls with it.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from "node:fs";

import {
  RECORD_HEADER_BYTES,
  checkRecordLength,
  frameInPlace,
  writeRecord,
} from "./journal-format.js";

/** The commit buffer's size at rest; one grown for a 16 MiB record is dropped after its commit. */
const COMMIT_BUFFER_BYTES = 256 * 1024;

/** The few file operations the writer needs: the seam tests use to inject write errors. */
export interface JournalFile {
  /** Writes all of `data` at byte `position`, or throws. */
  writeAt(data: Buffer, position: number): void;
  sync(): void;
  truncate(length: number): void;
  close(): void;
}

/** A journal file on disk, opened for positional writes. */
export function openJournalFile(path: string): JournalFile {
  const fd = openSync(path, "r+");
  return {
    writeAt: (data, position) => {
      let done = 0;
      while (done < data.length) {
        done += writeSync(fd, data, done, data.length - done, position + done);
      }
    },
    sync: () => {
      fsyncSync(fd);
    },
    truncate: (length) => {
      ftruncateSync(fd, length);
    },
    close: () => {
      closeSync(fd);
    },
  };
}

export interface JournalWriterOptions {
  /** Where appending starts: the length of the intact journal. */
  readonly length: number;
  /** fsync after every commit (`--state-fsync`). */
  readonly fsync: boolean;
  /** A commit failed; `first` is true for the first failure after a healthy commit. */
  readonly onError: (err: Error, first: boolean) => void;
  /** A retry succeeded after failures: the journal is whole again. */
  readonly onRecovered: () => void;
  /** Delay between retries while failing; default 1000 ms. */
  readonly retryMs?: number;
  /** A commit reached the file (the store decides here whether a snapshot is due). */
  readonly onCommitted?: () => void;
}

export class JournalWriter {
  #file: JournalFile;
  readonly #options: JournalWriterOptions;
  #length: number;
  /** The framed records not yet written: `#pendingBytes` of `#buffer`. */
  #buffer = Buffer.allocUnsafe(COMMIT_BUFFER_BYTES);
  #pendingBytes = 0;
  #scheduled = false;
  #failure: string | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** Commits written and bytes appended, for the docs' figures and the tests. */
  commits = 0;
  bytes = 0;

  constructor(file: JournalFile, options: JournalWriterOptions) {
    this.#file = file;
    this.#options = options;
    this.#length = options.length;
  }

  /** Why the journal cannot write right now, or undefined when it is healthy. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** Journal length in bytes, including what is committed but not what is pending. */
  get length(): number {
    return this.#length;
  }

  /** Buffers one record; it is written at the end of this event-loop turn. */
  append(payload: Buffer): void {
    checkRecordLength(payload.length);
    const offset = this.#reserve(payload.length); // first: it may replace the buffer
    writeRecord(this.#buffer, offset, payload);
  }

  /**
   * Buffers one record of `payloadBytes` that `write` encodes from `value` straight into the
   * commit buffer at `offset` (no payload Buffer of its own, no copy: the hot path's records).
   */
  appendInto<T>(
    payloadBytes: number,
    write: (target: Buffer, offset: number, value: T) => void,
    value: T,
  ): void {
    checkRecordLength(payloadBytes);
    const offset = this.#reserve(payloadBytes);
    try {
      write(this.#buffer, offset + RECORD_HEADER_BYTES, value);
    } catch (err) {
      this.#pendingBytes = offset; // a record that could not be encoded is not kept half-made
      throw err;
    }
    frameInPlace(this.#buffer, offset, payloadBytes);
  }

  /** Room for one framed record at the end of the pending bytes: its offset in `#buffer`. */
  #reserve(payloadBytes: number): number {
    if (this.#closed) throw new Error("state journal is closed");
    const offset = this.#pendingBytes;
    const needed = offset + RECORD_HEADER_BYTES + payloadBytes;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, offset);
      this.#buffer = grown;
    }
    this.#pendingBytes = needed;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.commit();
      });
    }
    return offset;
  }

  /** Writes whatever is buffered now; false if the write failed (records kept for a retry). */
  commit(): boolean {
    const size = this.#pendingBytes;
    if (size === 0) return this.#failure === undefined;
    try {
      this.#file.writeAt(this.#buffer.subarray(0, size), this.#length);
      if (this.#options.fsync) this.#file.sync();
    } catch (err) {
      this.#failed(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    this.#length += size;
    this.#pendingBytes = 0;
    if (this.#buffer.length > 16 * COMMIT_BUFFER_BYTES) {
      this.#buffer = Buffer.allocUnsafe(COMMIT_BUFFER_BYTES);
    }
    this.commits++;
    this.bytes += size;
    if (this.#failure !== undefined) {
      this.#failure = undefined;
      clearTimeout(this.#retry);
      this.#retry = undefined;
      this.#options.onRecovered();
    }
    this.#options.onCommitted?.();
    return true;
  }

  /**
   * Continues in another file (a new journal after a snapshot) that already holds `length`
   * bytes; the old file is closed. Only with nothing pending and no failure: the caller has
   * just committed, in the same turn.
   */
  replaceFile(file: JournalFile, length: number): void {
    if (this.#pendingBytes !== 0 || this.#failure !== undefined || this.#closed) {
      throw new Error("state journal replaced with records pending or a write failing");
    }
    const old = this.#file;
    this.#file = file;
    this.#length = length;
    old.close();
  }

  /** Commits what is pending and closes the file; throws if the last commit failed. */
  close(): void {
    if (this.#closed) return;
    const ok = this.commit();
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#file.close();
    if (!ok) throw new Error(`state journal closed with unwritten records: ${this.#failure}`);
  }

  #failed(err: Error): void {
    try {
      // A short write may have left part of a record: cut it so the retry lands cleanly.
      this.#file.truncate(this.#length);
    } catch {
      // The retry writes at the same position, over whatever is there.
    }
    const first = this.#failure === undefined;
    this.#failure = `state journal write failed: ${err.message}`;
    this.#options.onError(err, first);
    if (this.#retry === undefined && !this.#closed) {
      this.#retry = setInterval(() => {
        this.commit();
      }, this.#options.retryMs ?? 1000);
      this.#retry.unref();
    }
  }
}
