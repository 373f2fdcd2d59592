// SPDX-License-Identifier: Apache-2.0
/**
 * `BlkDevice`: the virtio-blk device model, VirtIO 1.2 §5.2 (virtio-argo.md §2.13, §4.10), over a
 * `BlockBackend` (a raw image file created on demand, or memory). One request queue; requests IN,
 * OUT, FLUSH and GET_ID answered with VIRTIO_BLK_S_OK / IOERR / UNSUPP; capacity (in 512-byte
 * sectors) in config; VIRTIO_BLK_F_RO when read-only. Requests are validated by
 * `parseBlkRequest` and executed asynchronously, possibly completing out of order (IN_ORDER is
 * not offered). The loop is Firecracker's `process_queue`: pop → parse → execute → write data and
 * status → add_used → notify.
 *
 * Limits (documented in docs/virtio-argo.md): one queue of up to `queueSize` (default 256)
 * entries; at most `maxTransferBytes` (default 1 MiB) of data per request; SEG_MAX advertises
 * queueSize − 2 data segments. A malformed request is answered with IOERR and counted as a
 * violation; one with no writable status byte is completed with used.len = 0 and counted.
 */
import { ConfigSpace } from "../../config-space.js";
import { VirtioDeviceBase, VirtioDeviceId } from "../../device.js";
import { TRANSPORT_FEATURES, features, hasFeature } from "../../features.js";
import type { DescriptorChain } from "../../queue/descriptor-chain.js";
import type { DeviceQueue } from "../../queue/device-queue.js";
import type { Writer } from "../../queue/writer.js";
import { ViolationKind } from "../../violation-log.js";
import type { BlockBackend } from "./block-backend.js";
import { encodeBlkId, parseBlkRequest, type BlkLimits, type BlkRequest } from "./blk-request.js";
import {
  VIRTIO_BLK_CFG_BLK_SIZE,
  VIRTIO_BLK_CFG_CAPACITY,
  VIRTIO_BLK_CFG_NUM_QUEUES,
  VIRTIO_BLK_CFG_SEG_MAX,
  VIRTIO_BLK_CONFIG_SIZE,
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_SECTOR_SIZE,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
} from "../../spec/virtio-blk.js";

export interface BlkDeviceOptions {
  readonly backend: BlockBackend;
  /** Name for logs and the default GET_ID string. */
  readonly name?: string;
  /** Serial returned by GET_ID (default: the name). */
  readonly id?: string;
  /** Expose read-only even if the backend is writable. */
  readonly readOnly?: boolean;
  /** QueueNumMax of the request queue (default 256). */
  readonly queueSize?: number;
  /** Largest data transfer per request in bytes (default 1 MiB). */
  readonly maxTransferBytes?: number;
}

/** Counters of what the device did. */
export interface BlkDeviceStats {
  requests: number;
  reads: number;
  writes: number;
  flushes: number;
  getIds: number;
  bytesRead: number;
  bytesWritten: number;
  ioErrors: number;
  unsupported: number;
}

/** virtio-blk device model (see the module comment). */
export class BlkDevice extends VirtioDeviceBase {
  readonly deviceType = VirtioDeviceId.block;
  readonly name: string;
  readonly availableFeatures: bigint;
  readonly queueMaxSizes: readonly number[];
  readonly config: ConfigSpace;
  readonly readOnly: boolean;
  readonly capacitySectors: number;
  readonly stats: BlkDeviceStats = {
    requests: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
    getIds: 0,
    bytesRead: 0,
    bytesWritten: 0,
    ioErrors: 0,
    unsupported: 0,
  };
  readonly #backend: BlockBackend;
  readonly #id: string;
  readonly #maxTransfer: number;

  constructor(options: BlkDeviceOptions) {
    super();
    this.#backend = options.backend;
    this.name = options.name ?? "blk";
    this.#id = options.id ?? this.name;
    this.readOnly = (options.readOnly ?? false) || options.backend.readOnly;
    const queueSize = options.queueSize ?? 256;
    this.queueMaxSizes = [queueSize];
    this.#maxTransfer = options.maxTransferBytes ?? 1024 * 1024;
    this.capacitySectors = Math.floor(options.backend.sizeBytes / VIRTIO_BLK_SECTOR_SIZE);
    this.availableFeatures =
      TRANSPORT_FEATURES |
      features(VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH) |
      (this.readOnly ? features(VIRTIO_BLK_F_RO) : 0n);
    this.config = new ConfigSpace(VIRTIO_BLK_CONFIG_SIZE);
    const cfg = new DataView(new ArrayBuffer(VIRTIO_BLK_CONFIG_SIZE));
    cfg.setBigUint64(VIRTIO_BLK_CFG_CAPACITY, BigInt(this.capacitySectors), true);
    cfg.setUint32(VIRTIO_BLK_CFG_SEG_MAX, Math.max(1, queueSize - 2), true);
    cfg.setUint32(VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR_SIZE, true);
    cfg.setUint16(VIRTIO_BLK_CFG_NUM_QUEUES, 1, true);
    this.config.initialize(0, new Uint8Array(cfg.buffer));
  }

  queueNotify(index: number): void {
    const queue = this.queue(index);
    if (index !== 0 || queue === undefined) return;
    const ctx = this.active;
    if (ctx === undefined) return;
    const limits: BlkLimits = {
      capacitySectors: this.capacitySectors,
      maxTransferBytes: this.#maxTransfer,
      readOnly: this.readOnly,
      flush: hasFeature(ctx.features, VIRTIO_BLK_F_FLUSH),
    };
    let completed = false;
    for (let chain = queue.pop(); chain !== undefined; chain = queue.pop()) {
      this.stats.requests++;
      const parsed = parseBlkRequest(chain, limits);
      switch (parsed.kind) {
        case "noStatus":
          ctx.violations.report(ViolationKind.writableRequired, {
            device: this.name,
            head: chain.head,
          });
          queue.addUsed(chain.head, 0);
          completed = true;
          break;
        case "status":
          if (parsed.violation) {
            ctx.violations.report(ViolationKind.malformedRequest, {
              device: this.name,
              head: chain.head,
              reason: parsed.reason,
            });
          }
          this.#finish(queue, chain, parsed.writer, parsed.status, 0);
          completed = true;
          break;
        case "request":
          this.#execute(queue, chain, parsed.request);
          break;
      }
    }
    if (completed) queue.signalUsed();
  }

  #execute(queue: DeviceQueue, chain: DescriptorChain, req: BlkRequest): void {
    const done = (dataWritten: number): void => {
      this.#finish(queue, chain, req.status, VIRTIO_BLK_S_OK, dataWritten);
      queue.signalUsed();
    };
    const failed = (): void => {
      this.#finish(queue, chain, req.status, VIRTIO_BLK_S_IOERR, 0);
      queue.signalUsed();
    };
    switch (req.type) {
      case "in":
        this.stats.reads++;
        this.track(
          queue.index,
          this.#backend.read(req.offset, req.len),
          (bytes) => {
            req.data.write(bytes);
            this.stats.bytesRead += bytes.length;
            done(bytes.length);
          },
          failed,
        );
        return;
      case "out":
        this.stats.writes++;
        this.track(
          queue.index,
          this.#backend.write(req.offset, req.payload),
          () => {
            this.stats.bytesWritten += req.payload.length;
            done(0);
          },
          failed,
        );
        return;
      case "flush":
        this.stats.flushes++;
        this.track(
          queue.index,
          this.#backend.flush(),
          () => {
            done(0);
          },
          failed,
        );
        return;
      case "getId": {
        this.stats.getIds++;
        const id = encodeBlkId(this.#id);
        const n = Math.min(id.length, req.data.available);
        req.data.write(id.subarray(0, n));
        this.#finish(queue, chain, req.status, VIRTIO_BLK_S_OK, n);
        queue.signalUsed();
        return;
      }
    }
  }

  /** Writes the status byte and returns the chain: used.len = data written + the status byte. */
  #finish(
    queue: DeviceQueue,
    chain: DescriptorChain,
    status: Writer,
    code: number,
    dataWritten: number,
  ): void {
    if (code === VIRTIO_BLK_S_IOERR) this.stats.ioErrors++;
    else if (code !== VIRTIO_BLK_S_OK) this.stats.unsupported++;
    status.writeU8(code);
    queue.addUsed(chain.head, dataWritten + 1);
  }
}
