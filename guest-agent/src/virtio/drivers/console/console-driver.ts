// SPDX-License-Identifier: Apache-2.0
/**
 * `ConsoleDriver`: the virtio-console front-end driver for port 0, VirtIO 1.2 §5.3.5–§5.3.6
 * (virtio-argo.md §2.15), written against `VirtioTransport` only. `write(text)` sends output
 * through transmitq (one device-readable buffer per write); input arrives in receive buffers
 * posted before DRIVER_OK and re-posted after use, and is handed to `onData` handlers and to
 * `read()`. `emergencyWrite(char)` uses `emerg_wr` when VIRTIO_CONSOLE_F_EMERG_WRITE is offered.
 */
import { VirtioDeviceId } from "../../device.js";
import { TRANSPORT_FEATURES, features, hasFeature } from "../../features.js";
import type { SplitQueueDriver } from "../../queue/split-queue-driver.js";
import { VirtQueueError, VirtQueueErrorKind } from "../../queue/virtqueue-error.js";
import type { VirtioTransport } from "../../transport/transport.js";
import {
  VIRTIO_CONSOLE_CFG_EMERG_WR,
  VIRTIO_CONSOLE_F_EMERG_WRITE,
  VIRTIO_CONSOLE_F_SIZE,
  VIRTIO_CONSOLE_RX_QUEUE,
  VIRTIO_CONSOLE_TX_QUEUE,
} from "../../devices/console/virtio-console.js";
import { VirtioDriver, type VirtioDriverOptions } from "../virtio-driver.js";
import { VirtioDriverError, VirtioDriverErrorKind } from "../virtio-driver-error.js";

export const CONSOLE_DRIVER_FEATURES =
  TRANSPORT_FEATURES | features(VIRTIO_CONSOLE_F_SIZE, VIRTIO_CONSOLE_F_EMERG_WRITE);

export interface ConsoleDriverOptions extends VirtioDriverOptions {
  /** Receive buffers kept posted (default 8) and their size (default 256). */
  readonly rxBuffers?: number;
  readonly rxBufferSize?: number;
}

interface TxToken {
  readonly done: () => void;
}

/** virtio-console front-end driver, port 0 (see the module comment). */
export class ConsoleDriver {
  readonly core: VirtioDriver;
  readonly #rx: SplitQueueDriver<number>;
  readonly #tx: SplitQueueDriver<TxToken>;
  readonly #rxSize: number;
  readonly #handlers = new Set<(data: Uint8Array) => void>();
  readonly #pending: Uint8Array[] = [];
  readonly #readers: ((data: Uint8Array) => void)[] = [];
  readonly #txWaiters: (() => void)[] = [];

  private constructor(
    core: VirtioDriver,
    rx: SplitQueueDriver<number>,
    tx: SplitQueueDriver<TxToken>,
    rxSize: number,
  ) {
    this.core = core;
    this.#rx = rx;
    this.#tx = tx;
    this.#rxSize = rxSize;
    core.onFailed(() => {
      for (const w of this.#txWaiters.splice(0)) w();
    });
  }

  static async create(
    transport: VirtioTransport,
    options: ConsoleDriverOptions = {},
  ): Promise<ConsoleDriver> {
    const core = new VirtioDriver(transport, options);
    await core.negotiate(VirtioDeviceId.console, CONSOLE_DRIVER_FEATURES);
    const ref: { d?: ConsoleDriver } = {};
    const rx = await core.setupQueue<number>(VIRTIO_CONSOLE_RX_QUEUE, () => {
      if (ref.d !== undefined) ref.d.#drainRx();
    });
    const tx = await core.setupQueue<TxToken>(VIRTIO_CONSOLE_TX_QUEUE, () => {
      if (ref.d !== undefined) ref.d.#drainTx();
    });
    const size = options.rxBufferSize ?? 256;
    const d = new ConsoleDriver(core, rx, tx, size);
    ref.d = d;
    // Post receive buffers before DRIVER_OK (§3.1.1 step 7), without kicking.
    d.#repost(Math.min(options.rxBuffers ?? 8, rx.size));
    rx.kickPrepare(); // consume the "added" count: no kick before DRIVER_OK
    await core.driverOk();
    return d;
  }

  /** Writes output to the console; resolves when the device has consumed it. */
  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (bytes.length === 0) return;
    const { ram, dma } = this.core.transport;
    const buf = dma.alloc(bytes.length, 16);
    ram.write(buf, bytes);
    try {
      await new Promise<void>((resolve, reject) => {
        const tryAdd = (): void => {
          const st = this.core.state;
          if (st.kind === "failed") {
            reject(st.error);
            return;
          }
          try {
            this.#tx.add([{ addr: buf, len: bytes.length }], [], { done: resolve });
          } catch (err) {
            if (err instanceof VirtQueueError && err.kind === VirtQueueErrorKind.queueFull) {
              this.#txWaiters.push(tryAdd);
              return;
            }
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          this.core.kick(this.#tx).catch(reject);
        };
        tryAdd();
      });
    } finally {
      dma.free(buf);
    }
  }

  /** Writes one character through `emerg_wr` (works even if the queues are stuck). */
  async emergencyWrite(char: number): Promise<void> {
    if (!hasFeature(this.core.features, VIRTIO_CONSOLE_F_EMERG_WRITE)) {
      throw new VirtioDriverError(
        VirtioDriverErrorKind.missingFeature,
        "VIRTIO_CONSOLE_F_EMERG_WRITE not negotiated",
      );
    }
    const b = new Uint8Array(4);
    b[0] = char & 0xff;
    await this.core.transport.writeConfig(VIRTIO_CONSOLE_CFG_EMERG_WR, b);
  }

  /** Runs `handler` on every chunk of input. */
  onData(handler: (data: Uint8Array) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** The next chunk of input (buffered input first). */
  read(): Promise<Uint8Array> {
    const next = this.#pending.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  close(): Promise<void> {
    return this.core.close();
  }

  #repost(n: number): void {
    const { dma } = this.core.transport;
    for (let i = 0; i < n; i++) {
      const buf = dma.alloc(this.#rxSize, 16);
      this.#rx.add([], [{ addr: buf, len: this.#rxSize }], buf);
    }
  }

  #drainRx(): void {
    const { ram } = this.core.transport;
    const chunks: Uint8Array[] = [];
    const ok = this.core.guard(() => {
      for (;;) {
        const used = this.#rx.getBuf();
        if (used === undefined) {
          if (this.#rx.enableCb()) break;
          continue;
        }
        if (used.len > 0) chunks.push(ram.read(used.token, used.len));
        this.#rx.add([], [{ addr: used.token, len: this.#rxSize }], used.token);
      }
    });
    if (ok) void this.core.kick(this.#rx).catch(() => undefined);
    for (const c of chunks) {
      for (const h of this.#handlers) h(c);
      const reader = this.#readers.shift();
      if (reader !== undefined) reader(c);
      else this.#pending.push(c);
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
