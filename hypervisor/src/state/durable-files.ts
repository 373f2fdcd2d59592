// SPDX-License-Identifier: Apache-2.0
/**
 * Writing a file so that a rename of it is a safe commit point: the bytes are written and
 * fsynced before the rename, and the directory is fsynced after it, so after a crash (of the
 * process or of the machine) the name refers either to the old file or to the whole new one.
 * The asynchronous form runs on libuv's thread pool, so a large snapshot does not stall the
 * event loop while it is written.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";

/** Bytes gathered into one write; bounds the extra copy and keeps each write large. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Groups `buffers` into batches of about WRITE_BATCH_BYTES (small ones concatenated). */
function* batches(buffers: readonly Buffer[]): Generator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for (const buffer of buffers) {
    pending.push(buffer);
    size += buffer.length;
    if (size >= WRITE_BATCH_BYTES) {
      yield pending.length === 1 ? buffer : Buffer.concat(pending, size);
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(pending, size);
}

/** Creates (or replaces) `path` with `buffers`, fsynced, without blocking the event loop. */
export async function writeFileDurably(path: string, buffers: readonly Buffer[]): Promise<void> {
  const handle = await open(path, "w");
  try {
    let position = 0;
    for (const batch of batches(buffers)) {
      let done = 0;
      while (done < batch.length) {
        const { bytesWritten } = await handle.write(batch, done, batch.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `writeFileDurably`, blocking: for the snapshot of a clean stop. */
export function writeFileDurablySync(path: string, buffers: readonly Buffer[]): void {
  const fd = openSync(path, "w");
  try {
    let position = 0;
    for (const batch of batches(buffers)) {
      let done = 0;
      while (done < batch.length) {
        done += writeSync(fd, batch, done, batch.length - done, position + done);
      }
      position += batch.length;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `fsyncDir` on the thread pool. */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the directory's entries (a rename, a new or removed file) durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
