// SPDX-License-Identifier: Apache-2.0
/**
 * The bytes one history pump sends a sink, gathered in one buffer and written as one chunk: a
 * write (and a WebSocket frame object) per event costs more than the event itself. The buffer
 * grows to the largest batch seen, which the history bounds by its per-subscriber byte limit.
 */
const INITIAL_BYTES = 16 * 1024;

export class ByteBatch {
  #buf = Buffer.allocUnsafe(INITIAL_BYTES);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** Appends a copy of `bytes` (a view that may be overwritten later). */
  push(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /**
   * Makes room for up to `n` more bytes and returns where they start in `buffer`, for a caller
   * writing in place; `advance` then counts what it wrote.
   */
  reserve(n: number): number {
    this.#reserve(n);
    return this.#length;
  }

  /** The buffer `reserve` made room in (valid until the next `reserve` or `push`). */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** `n` bytes were written at the position `reserve` returned. */
  advance(n: number): void {
    this.#length += n;
  }

  /**
   * The batch, handed over (the writer keeps it until written); the next batch starts in a new
   * buffer with room for twice this one. Copying it out instead cost more per event than
   * writing it.
   */
  take(): Buffer {
    const out = this.#buf.subarray(0, this.#length);
    this.#buf = Buffer.allocUnsafe(Math.max(INITIAL_BYTES, 2 * this.#length));
    this.#length = 0;
    return out;
  }

  clear(): void {
    this.#length = 0;
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#length + n));
    this.#buf.copy(bigger, 0, 0, this.#length);
    this.#buf = bigger;
  }
}
