// SPDX-License-Identifier: Apache-2.0
/**
 * `BlkDriver`: the virtio-blk front-end driver, VirtIO 1.2 §5.2.5–§5.2.6 (virtio-argo.md §2.13),
 * written against `VirtioTransport` only — the block API a workload uses: `read(sector, n)`,
 * `write(sector, data)`, `flush()`, `getId()`, and `capacitySectors`.
 *
 * Each request is one buffer in the request queue: a 16-byte header (device-readable), the data
 * (device-readable for OUT, device-writable for IN / GET_ID), and the status byte
 * (device-writable, last) — three elements, so with VIRTIO_F_INDIRECT_DESC one ring descriptor
 * (as Linux does). Buffers come from the transport's DMA allocator and are freed on completion.
 * A request waits for free descriptors when the queue is full. A device status other than OK
 * rejects the request with `VirtioDriverError` kind `requestFailed` and the blk status; a device
 * violation fails the driver and rejects everything outstanding.
 *
 * `resetQueue()` resets the request queue (VIRTIO_F_RING_RESET, VirtIO 1.2 §2.6.1): once the
 * device has quiesced it, the requests still outstanding are detached and rejected with kind
 * `reset` (the device may or may not have carried them out — as for any aborted request), the
 * queue is set up again, and requests issued meanwhile wait and then go to the new queue.
 */
import { VirtioDeviceId } from "../../device.js";
import { TRANSPORT_FEATURES, features, hasFeature } from "../../features.js";
import type { SplitQueueDriver } from "../../queue/split-queue-driver.js";
import { VirtQueueError, VirtQueueErrorKind } from "../../queue/virtqueue-error.js";
import type { VirtioTransport } from "../../transport/transport.js";
import {
  VIRTIO_BLK_CFG_CAPACITY,
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_REQ_HEADER_SIZE,
  VIRTIO_BLK_SECTOR_SIZE,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  blkStatusName,
} from "../../spec/virtio-blk.js";
import { VirtioDriver, type VirtioDriverOptions } from "../virtio-driver.js";
import { VirtioDriverError, VirtioDriverErrorKind } from "../virtio-driver-error.js";

/** Features this driver understands. */
export const BLK_DRIVER_FEATURES =
  TRANSPORT_FEATURES |
  features(VIRTIO_BLK_F_RO, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_SEG_MAX);

interface PendingRequest {
  readonly header: number;
  readonly data: number | undefined;
  readonly dataLen: number;
  readonly status: number;
  readonly resolve: (r: { status: number; data: Uint8Array | undefined }) => void;
  readonly reject: (err: unknown) => void;
  readonly readBack: boolean;
}

export interface BlkDriverOptions extends VirtioDriverOptions {
  /** Largest queue to set up (default 256). */
  readonly queueSize?: number;
  /** Negotiate without these features (tests of the negotiation paths). */
  readonly withoutFeatures?: bigint;
}

/** virtio-blk front-end driver (see the module comment). */
export class BlkDriver {
  readonly core: VirtioDriver;
  readonly capacitySectors: number;
  readonly readOnly: boolean;
  #queue: SplitQueueDriver<PendingRequest>;
  readonly #waiters: (() => void)[] = [];
  readonly #outstanding = new Set<PendingRequest>();
  readonly #queueSize: number;
  /** Set while the request queue is being reset: new requests wait. */
  #resetting = false;

  private constructor(
    core: VirtioDriver,
    queue: SplitQueueDriver<PendingRequest>,
    capacity: number,
    readOnly: boolean,
    queueSize: number,
  ) {
    this.core = core;
    this.#queue = queue;
    this.#queueSize = queueSize;
    this.capacitySectors = capacity;
    this.readOnly = readOnly;
    core.onFailed((error) => {
      // The core detached the queue's buffers; reject their requests and wake the waiters,
      // which then see the failed state and reject too.
      for (const p of this.#outstanding) p.reject(error);
      this.#outstanding.clear();
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** Runs the initialization sequence and sets up the request queue. */
  static async create(
    transport: VirtioTransport,
    options: BlkDriverOptions = {},
  ): Promise<BlkDriver> {
    const core = new VirtioDriver(transport, options);
    const negotiated = await core.negotiate(
      VirtioDeviceId.block,
      BLK_DRIVER_FEATURES & ~(options.withoutFeatures ?? 0n),
    );
    const cfg = await core.readConfigStable(VIRTIO_BLK_CFG_CAPACITY, 8);
    const capacity = new DataView(cfg.buffer, cfg.byteOffset, 8).getBigUint64(0, true);
    if (capacity > BigInt(Math.floor(Number.MAX_SAFE_INTEGER / VIRTIO_BLK_SECTOR_SIZE))) {
      await core.fail(
        new VirtioDriverError(
          VirtioDriverErrorKind.deviceFailed,
          `implausible capacity ${capacity}`,
        ),
      );
      throw new VirtioDriverError(
        VirtioDriverErrorKind.deviceFailed,
        `implausible capacity ${capacity}`,
      );
    }
    // The queue's interrupt handler needs the driver, which needs the queue.
    const ref: { driver?: BlkDriver } = {};
    const queue = await core.setupQueue<PendingRequest>(
      0,
      () => {
        if (ref.driver !== undefined) ref.driver.#drain();
      },
      options.queueSize ?? 256,
    );
    const driver = new BlkDriver(
      core,
      queue,
      Number(capacity),
      hasFeature(negotiated, VIRTIO_BLK_F_RO),
      options.queueSize ?? 256,
    );
    ref.driver = driver;
    await core.driverOk();
    return driver;
  }

  /** Reads `count` sectors from `sector`. */
  async read(sector: number, count: number): Promise<Uint8Array> {
    const { data } = await this.#request(
      VIRTIO_BLK_T_IN,
      sector,
      undefined,
      count * VIRTIO_BLK_SECTOR_SIZE,
    );
    return data ?? new Uint8Array(0);
  }

  /** Writes `data` (a multiple of 512 bytes) at `sector`. */
  async write(sector: number, data: Uint8Array): Promise<void> {
    await this.#request(VIRTIO_BLK_T_OUT, sector, data, data.length);
  }

  /** Makes completed writes durable. */
  async flush(): Promise<void> {
    await this.#request(VIRTIO_BLK_T_FLUSH, 0, undefined, 0);
  }

  /** The device's ID string (GET_ID), NUL padding removed. */
  async getId(): Promise<string> {
    const { data } = await this.#request(VIRTIO_BLK_T_GET_ID, 0, undefined, VIRTIO_BLK_ID_BYTES);
    const bytes = data ?? new Uint8Array(0);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
  }

  /** Entries of the request queue now. */
  get queueSize(): number {
    return this.#queue.size;
  }

  /**
   * Resets the request queue and sets it up again with at most `size` entries (default: the
   * size asked for at creation). Resolves with the number of requests it rejected. Rejects
   * (nothing changed) when VIRTIO_F_RING_RESET is not negotiated or the device refuses.
   */
  async resetQueue(options: { readonly size?: number } = {}): Promise<number> {
    if (this.#resetting)
      throw new VirtioDriverError(VirtioDriverErrorKind.reset, "request queue reset in progress");
    this.#resetting = true;
    try {
      const detached = await this.core.resetQueue<PendingRequest>(0);
      const error = new VirtioDriverError(
        VirtioDriverErrorKind.reset,
        "request aborted by a reset of the request queue",
      );
      for (const p of detached) {
        this.#outstanding.delete(p);
        p.reject(error);
      }
      try {
        this.#queue = await this.core.enableQueue<PendingRequest>(
          0,
          () => {
            this.#drain();
          },
          options.size ?? this.#queueSize,
        );
      } catch (err) {
        // Without a request queue the device is unusable: give up on it.
        await this.core.fail(
          new VirtioDriverError(
            VirtioDriverErrorKind.queueUnavailable,
            "the request queue could not be re-enabled",
            { cause: err },
          ),
        );
        throw err;
      }
      return detached.length;
    } finally {
      this.#resetting = false;
      for (const w of this.#waiters.splice(0)) w();
    }
  }

  /** Resets the device and releases the queue. */
  close(): Promise<void> {
    return this.core.close();
  }

  async #request(
    type: number,
    sector: number,
    out: Uint8Array | undefined,
    dataLen: number,
  ): Promise<{ status: number; data: Uint8Array | undefined }> {
    const state = this.core.state;
    if (state.kind === "failed") throw state.error;
    const { ram, dma } = this.core.transport;
    const header = dma.alloc(VIRTIO_BLK_REQ_HEADER_SIZE, 16);
    const data = dataLen > 0 ? dma.alloc(dataLen, 16) : undefined;
    const status = dma.alloc(1, 1);
    const hdr = new DataView(new ArrayBuffer(VIRTIO_BLK_REQ_HEADER_SIZE));
    hdr.setUint32(0, type, true);
    hdr.setBigUint64(8, BigInt(sector), true);
    ram.write(header, new Uint8Array(hdr.buffer));
    if (out !== undefined && data !== undefined) ram.write(data, out);
    // A recognisable non-status value: a device that never writes it cannot pass for OK.
    ram.writeU8(status, 0xff);
    const readBack = type === VIRTIO_BLK_T_IN || type === VIRTIO_BLK_T_GET_ID;
    const outElems = [{ addr: header, len: VIRTIO_BLK_REQ_HEADER_SIZE }];
    const inElems = [{ addr: status, len: 1 }];
    if (data !== undefined) (readBack ? inElems : outElems).push({ addr: data, len: dataLen });
    if (data !== undefined && readBack) inElems.reverse(); // data first, status last
    const result = await new Promise<{ status: number; data: Uint8Array | undefined }>(
      (resolve, reject) => {
        const pending: PendingRequest = {
          header,
          data,
          dataLen,
          status,
          resolve,
          reject,
          readBack,
        };
        const tryAdd = (): void => {
          const st = this.core.state;
          if (st.kind === "failed") {
            reject(st.error);
            return;
          }
          if (this.#resetting) {
            this.#waiters.push(tryAdd);
            return;
          }
          try {
            this.#queue.add(outElems, inElems, pending);
          } catch (err) {
            if (err instanceof VirtQueueError && err.kind === VirtQueueErrorKind.queueFull) {
              this.#waiters.push(tryAdd);
              return;
            }
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          this.#outstanding.add(pending);
          this.core.kick(this.#queue).catch(reject);
        };
        tryAdd();
      },
    ).finally(() => {
      dma.free(header);
      if (data !== undefined) dma.free(data);
      dma.free(status);
    });
    if (result.status !== VIRTIO_BLK_S_OK) {
      throw new VirtioDriverError(
        VirtioDriverErrorKind.requestFailed,
        `blk request failed: ${blkStatusName(result.status)}`,
        {
          cause: result.status,
        },
      );
    }
    return result;
  }

  #drain(): void {
    const { ram } = this.core.transport;
    this.core.drainUsed(this.#queue, (used) => {
      const p = used.token;
      this.#outstanding.delete(p);
      // Read the status byte whatever used.len says (it may underestimate, §2.7.8); we preset
      // it to 0xff, so a device that never wrote it cannot pass for OK.
      const status = ram.readU8(p.status);
      const data = p.readBack && p.data !== undefined ? ram.read(p.data, p.dataLen) : undefined;
      p.resolve({ status, data });
      this.#waiters.shift()?.();
    });
  }
}
