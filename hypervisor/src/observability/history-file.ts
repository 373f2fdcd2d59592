// SPDX-License-Identifier: Apache-2.0
/**
 * `--history-file PATH`: the history as JSON lines, one event per line, exactly the frames a
 * WebSocket subscriber gets. It is an ordinary subscriber of the history, so it shares the
 * bounded-queue rule: while the file stream holds `maxBufferedBytes` unwritten, events wait in
 * the retained window; if the window overtakes the file, a `gap` line says what was lost instead
 * of the service growing without bound. Each pump writes its lines as one chunk. Appending to
 * the file of an earlier run whose seq this one continues (a state dir), a `gap` line with
 * `"cause":"restart"` covers the seqs between (history-file-tail.ts).
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { ByteBatch } from "./byte-batch.js";
import { readHistoryFileTail } from "./history-file-tail.js";
import type { History, HistorySink, HistorySubscription } from "./history.js";
import type { LineWriter } from "./record-views.js";

const NEWLINE = Buffer.from("\n");

export class HistoryFile implements HistorySink {
  readonly #stream: WriteStream;
  readonly #batch = new ByteBatch();
  #subscription: HistorySubscription | undefined;
  #failed: Error | undefined;
  /** The seq of the earlier run's last line in the file, if any. */
  readonly #lastSeq: number | undefined;

  constructor(readonly path: string) {
    const tail = readHistoryFileTail(path);
    this.#lastSeq = tail.lastSeq;
    this.#stream = createWriteStream(path, { flags: "a" });
    if (tail.torn) this.#stream.write(NEWLINE);
    this.#stream.on("error", (err) => {
      // A full disk or a removed directory must not take the hypervisor down: stop writing.
      this.#failed = err;
      this.#subscription?.cancel();
    });
  }

  /**
   * Starts following the history from its next event; after the earlier run's last line when
   * the seq jumped past it, so the history writes the restart's gap first.
   */
  follow(history: History): void {
    const last = this.#lastSeq;
    const jumped = last !== undefined && last + 1 < history.nextSeq;
    this.#subscription = history.subscribe(
      this,
      jumped ? { closeWhenBehind: false, since: last } : { closeWhenBehind: false },
    );
  }

  /** The write error that stopped the file, if any. */
  get error(): Error | undefined {
    return this.#failed;
  }

  get bufferedAmount(): number {
    return this.#stream.writableLength + this.#batch.length;
  }

  send(event: Uint8Array): void {
    this.#batch.push(event);
    this.#batch.push(NEWLINE);
  }

  sendLine(line: LineWriter): void {
    const at = this.#batch.reserve(line.maxBytes + 1);
    const buf = this.#batch.buffer;
    const n = line.writeTo(buf, at);
    buf[at + n] = 0x0a;
    this.#batch.advance(n + 1);
  }

  flush(): void {
    if (this.#failed !== undefined) this.#batch.clear();
    if (this.#batch.length === 0) return;
    const lines = this.#batch.take();
    this.#stream.write(lines, () => {
      this.#batch.recycle(lines);
    });
  }

  close(): void {
    this.#subscription?.cancel();
  }

  /** Writes what is queued and closes the file. */
  end(): Promise<void> {
    this.close();
    return new Promise((resolve) => {
      if (this.#failed !== undefined || this.#stream.destroyed) {
        resolve();
        return;
      }
      this.#stream.end(() => {
        resolve();
      });
    });
  }
}
