// SPDX-License-Identifier: Apache-2.0
/**
 * The bytes one history pump sends a sink, gathered in one buffer and written as one chunk: a
 * write (and a WebSocket frame object) per event costs more than the event itself. The buffer
 * grows to the largest batch seen, which the history bounds by its per-subscriber byte limit.
 *
 * A batch handed to a writer comes back through `recycle` once written, and the next batch is
 * gathered in it: a busy history fills a few hundred KiB per pump, and a fresh buffer each time
 * (memory the kernel maps, faults in page by page, and unmaps after the collector frees it)
 * cost more than writing the lines into it.
 */
const INITIAL_BYTES = 16 * 1024;
/** Written batches kept for reuse; more in flight than this are left to the collector. */
const SPARES = 2;

export class ByteBatch {
  #buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  #length = 0;
  readonly #spares: Buffer[] = [];

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
   * The batch, handed over (the writer keeps it until written, then may `recycle` it); the next
   * batch starts in a spare buffer, or a new one with room for twice this one. Copying it out
   * instead cost more per event than writing it.
   */
  take(): Buffer {
    const out = this.#buf.subarray(0, this.#length);
    this.#buf =
      this.#spares.pop() ?? Buffer.allocUnsafeSlow(Math.max(INITIAL_BYTES, 2 * this.#length));
    this.#length = 0;
    return out;
  }

  /** A batch from `take` that the writer is done with: its buffer gathers a later batch. */
  recycle(written: Buffer): void {
    if (this.#spares.length < SPARES) this.#spares.push(Buffer.from(written.buffer));
  }

  clear(): void {
    this.#length = 0;
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.#buf.length * 2, this.#length + n));
    this.#buf.copy(bigger, 0, 0, this.#length);
    this.#buf = bigger;
  }
}
