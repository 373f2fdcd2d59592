// SPDX-License-Identifier: Apache-2.0
/**
 * The bytes one history pump sends a sink, gathered in a reused buffer and written as one
 * chunk: a write (and a WebSocket frame object) per event costs more than the event itself.
 * The buffer grows to the largest batch seen, which the history bounds by its per-subscriber
 * byte limit.
 */
export class ByteBatch {
  #buf = Buffer.allocUnsafe(16 * 1024);
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

  /** Room for `n` more bytes at `at`, for a caller writing a header in place. */
  claim(n: number): { buf: Buffer; at: number } {
    this.#reserve(n);
    const at = this.#length;
    this.#length += n;
    return { buf: this.#buf, at };
  }

  /** The batch as its own buffer (the reused one stays here); empties the batch. */
  take(): Buffer {
    const out = Buffer.from(this.#buf.subarray(0, this.#length));
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
