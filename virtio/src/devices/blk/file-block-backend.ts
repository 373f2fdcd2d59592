// SPDX-License-Identifier: Apache-2.0
/**
 * `FileBlockBackend`: a raw disk image in a host file, created on demand. `open(path,
 * { capacitySectors })` opens an existing image as it is (its size, rounded down to whole
 * sectors, is the capacity) or, when the file does not exist, creates a sparse zero-filled image
 * of the given capacity. With `readOnly` the file is opened read-only and the device offers
 * VIRTIO_BLK_F_RO. `flush` is `fdatasync`, the durability VIRTIO_BLK_T_FLUSH promises.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { BlockBackend } from "./block-backend.js";
import { VIRTIO_BLK_SECTOR_SIZE } from "../../spec/virtio-blk.js";

export interface FileBlockBackendOptions {
  /** Capacity of a newly created image, in 512-byte sectors. Required to create one. */
  readonly capacitySectors?: number;
  readonly readOnly?: boolean;
}

/** A raw image file (see the module comment). */
export class FileBlockBackend implements BlockBackend {
  readonly path: string;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  readonly #fh: FileHandle;
  /** True when `open` created the file. */
  readonly created: boolean;

  private constructor(
    path: string,
    fh: FileHandle,
    sizeBytes: number,
    readOnly: boolean,
    created: boolean,
  ) {
    this.path = path;
    this.#fh = fh;
    this.sizeBytes = sizeBytes;
    this.readOnly = readOnly;
    this.created = created;
  }

  /** Opens `path`, creating a zero-filled image of `capacitySectors` if it does not exist. */
  static async open(
    path: string,
    options: FileBlockBackendOptions = {},
  ): Promise<FileBlockBackend> {
    const readOnly = options.readOnly ?? false;
    let created = false;
    try {
      // "wx" fails if the file exists, so two openers never both create (and truncate) it.
      if (options.capacitySectors !== undefined) {
        const cap = options.capacitySectors;
        if (
          !Number.isSafeInteger(cap) ||
          cap < 0 ||
          cap * VIRTIO_BLK_SECTOR_SIZE > Number.MAX_SAFE_INTEGER
        ) {
          throw new RangeError(`bad capacity ${cap} sectors`);
        }
        const fh = await open(path, "wx");
        try {
          await fh.truncate(cap * VIRTIO_BLK_SECTOR_SIZE);
        } finally {
          await fh.close();
        }
        created = true;
      }
    } catch (err) {
      if (!isErrno(err, "EEXIST")) throw err;
    }
    const fh = await open(path, readOnly ? "r" : "r+");
    const { size } = await fh.stat();
    const sizeBytes = Math.floor(size / VIRTIO_BLK_SECTOR_SIZE) * VIRTIO_BLK_SECTOR_SIZE;
    return new FileBlockBackend(path, fh, sizeBytes, readOnly, created);
  }

  async read(offset: number, len: number): Promise<Uint8Array> {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const { bytesRead } = await this.#fh.read(out, done, len - done, offset + done);
      if (bytesRead === 0) break; // past EOF: the rest stays zero
      done += bytesRead;
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  flush(): Promise<void> {
    return this.#fh.datasync();
  }

  close(): Promise<void> {
    return this.#fh.close();
  }
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
