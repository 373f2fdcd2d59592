// SPDX-License-Identifier: Apache-2.0
/**
 * `NetDriver`: the virtio-net front-end driver, VirtIO 1.2 §5.1.5–§5.1.6 (virtio-argo.md §2.14),
 * written against `VirtioTransport` only: sends and receives Ethernet frames.
 *
 * Setup (§5.1.5): negotiate (MAC and STATUS wanted, no offloads, no MRG_RXBUF), read the MAC
 * from config, set up receiveq1 and transmitq1, and fill the receive queue with `rxBuffers`
 * device-writable buffers of 12 + 1518 bytes *before* DRIVER_OK (§3.1.1 step 7 "population of
 * virtqueues"; no kick before DRIVER_OK — the device looks at its queues when activated).
 * Receive: each used buffer is header + frame; the frame goes to the `onFrame` handlers and the
 * buffer is re-posted. Send: header + frame in one device-readable buffer; the promise resolves
 * when the device has used it. A used len shorter than the header is a device error, counted.
 */
import { VirtioDeviceId } from "../../device.js";
import { TRANSPORT_FEATURES, features } from "../../features.js";
import type { SplitQueueDriver } from "../../queue/split-queue-driver.js";
import { VirtQueueError, VirtQueueErrorKind } from "../../queue/virtqueue-error.js";
import type { VirtioTransport } from "../../transport/transport.js";
import { ViolationKind } from "../../violation-log.js";
import type { MacAddress } from "../../devices/net/ethernet.js";
import {
  RX_BUFFER_SIZE,
  VIRTIO_NET_CFG_MAC,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_RX_QUEUE,
  VIRTIO_NET_TX_QUEUE,
} from "../../devices/net/virtio-net.js";
import { VirtioDriver, type VirtioDriverOptions } from "../virtio-driver.js";

export const NET_DRIVER_FEATURES =
  TRANSPORT_FEATURES | features(VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MTU);

export interface NetDriverOptions extends VirtioDriverOptions {
  /** Receive buffers kept posted (default 32). */
  readonly rxBuffers?: number;
  readonly queueSize?: number;
}

export interface NetDriverStats {
  txFrames: number;
  rxFrames: number;
  rxErrors: number;
}

interface TxToken {
  readonly buf: number;
  readonly done: () => void;
}

/** virtio-net front-end driver (see the module comment). */
export class NetDriver {
  readonly core: VirtioDriver;
  readonly mac: MacAddress;
  readonly stats: NetDriverStats = { txFrames: 0, rxFrames: 0, rxErrors: 0 };
  readonly #rx: SplitQueueDriver<number>;
  readonly #tx: SplitQueueDriver<TxToken>;
  readonly #handlers = new Set<(frame: Uint8Array) => void>();
  readonly #txWaiters: (() => void)[] = [];

  private constructor(
    core: VirtioDriver,
    mac: MacAddress,
    rx: SplitQueueDriver<number>,
    tx: SplitQueueDriver<TxToken>,
  ) {
    this.core = core;
    this.mac = mac;
    this.#rx = rx;
    this.#tx = tx;
    core.onFailed(() => {
      for (const w of this.#txWaiters.splice(0)) w();
    });
  }

  static async create(
    transport: VirtioTransport,
    options: NetDriverOptions = {},
  ): Promise<NetDriver> {
    const core = new VirtioDriver(transport, options);
    await core.negotiate(VirtioDeviceId.net, NET_DRIVER_FEATURES, features(VIRTIO_NET_F_MAC));
    const mac = await core.readConfigStable(VIRTIO_NET_CFG_MAC, 6);
    const ref: { d?: NetDriver } = {};
    const rx = await core.setupQueue<number>(
      VIRTIO_NET_RX_QUEUE,
      () => {
        if (ref.d !== undefined) ref.d.#drainRx();
      },
      options.queueSize ?? 256,
    );
    const tx = await core.setupQueue<TxToken>(
      VIRTIO_NET_TX_QUEUE,
      () => {
        if (ref.d !== undefined) ref.d.#drainTx();
      },
      options.queueSize ?? 256,
    );
    const d = new NetDriver(core, mac, rx, tx);
    ref.d = d;
    const n = Math.min(options.rxBuffers ?? 32, rx.size);
    for (let i = 0; i < n; i++) d.#postRx(transport.dma.alloc(RX_BUFFER_SIZE, 16));
    rx.kickPrepare(); // consume the "added" count: no kick before DRIVER_OK
    await core.driverOk();
    return d;
  }

  /** Runs `handler` for every received frame. Returns the unsubscribe function. */
  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Sends one Ethernet frame; resolves when the device has consumed it. */
  async send(frame: Uint8Array): Promise<void> {
    const { ram, dma } = this.core.transport;
    const buf = dma.alloc(VIRTIO_NET_HDR_SIZE + frame.length, 16);
    ram.fill(buf, VIRTIO_NET_HDR_SIZE);
    ram.write(buf + VIRTIO_NET_HDR_SIZE, frame);
    try {
      await new Promise<void>((resolve, reject) => {
        const tryAdd = (): void => {
          const st = this.core.state;
          if (st.kind === "failed") {
            reject(st.error);
            return;
          }
          try {
            this.#tx.add([{ addr: buf, len: VIRTIO_NET_HDR_SIZE + frame.length }], [], {
              buf,
              done: resolve,
            });
          } catch (err) {
            if (err instanceof VirtQueueError && err.kind === VirtQueueErrorKind.queueFull) {
              this.#txWaiters.push(tryAdd);
              return;
            }
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          this.stats.txFrames++;
          this.core.kick(this.#tx).catch(reject);
        };
        tryAdd();
      });
    } finally {
      dma.free(buf);
    }
  }

  close(): Promise<void> {
    return this.core.close();
  }

  #postRx(buf: number): void {
    this.#rx.add([], [{ addr: buf, len: RX_BUFFER_SIZE }], buf);
  }

  #drainRx(): void {
    const { ram } = this.core.transport;
    const frames: Uint8Array[] = [];
    const ok = this.core.guard(() => {
      for (;;) {
        const used = this.#rx.getBuf();
        if (used === undefined) {
          if (this.#rx.enableCb()) break;
          continue;
        }
        if (used.len < VIRTIO_NET_HDR_SIZE) {
          this.stats.rxErrors++;
          this.core.violations.report(ViolationKind.malformedRequest, {
            queue: VIRTIO_NET_RX_QUEUE,
            len: used.len,
            side: "driver",
          });
        } else {
          frames.push(ram.read(used.token + VIRTIO_NET_HDR_SIZE, used.len - VIRTIO_NET_HDR_SIZE));
        }
        this.#postRx(used.token);
      }
    });
    if (ok) void this.core.kick(this.#rx).catch(() => undefined);
    for (const f of frames) {
      this.stats.rxFrames++;
      for (const h of this.#handlers) h(f);
    }
  }

  #drainTx(): void {
    this.core.guard(() => {
      for (;;) {
        const used = this.#tx.getBuf();
        if (used === undefined) {
          if (this.#tx.enableCb()) break;
          continue;
        }
        used.token.done();
        this.#txWaiters.shift()?.();
      }
    });
  }
}
