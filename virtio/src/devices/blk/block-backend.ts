// SPDX-License-Identifier: Apache-2.0
/**
 * `BlockBackend`: the storage under a virtio-blk device model (Firecracker's block `io/`
 * engines): byte-addressed reads and writes of a raw image, flush, and its size. The device
 * model does every bounds and alignment check before it calls a backend (§5.2.6.1: "A device
 * MUST NOT ... access beyond capacity"), so backends only do I/O. `MemoryBlockBackend` keeps the
 * image in memory (tests, benchmarks); `FileBlockBackend` is a raw file.
 */

/** Raw image storage. Offsets and lengths are already validated by the device model. */
export interface BlockBackend {
  /** Image size in bytes (a multiple of 512 is exposed as capacity). */
  readonly sizeBytes: number;
  /** True when the image cannot be written (the device then offers VIRTIO_BLK_F_RO). */
  readonly readOnly: boolean;
  read(offset: number, len: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes completed writes durable (VIRTIO_BLK_T_FLUSH). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** An image held in memory. */
export class MemoryBlockBackend implements BlockBackend {
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  readonly #bytes: Uint8Array;
  flushes = 0;

  constructor(
    sizeBytes: number,
    options: { readonly readOnly?: boolean; readonly contents?: Uint8Array } = {},
  ) {
    this.sizeBytes = sizeBytes;
    this.readOnly = options.readOnly ?? false;
    this.#bytes = new Uint8Array(sizeBytes);
    if (options.contents !== undefined) this.#bytes.set(options.contents.subarray(0, sizeBytes));
  }

  read(offset: number, len: number): Promise<Uint8Array> {
    return Promise.resolve(this.#bytes.slice(offset, offset + len));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) return Promise.reject(new Error("read-only image"));
    this.#bytes.set(data, offset);
    return Promise.resolve();
  }

  flush(): Promise<void> {
    this.flushes++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** A copy of the image (tests). */
  snapshot(): Uint8Array {
    return this.#bytes.slice();
  }
}
