// SPDX-License-Identifier: Apache-2.0
/**
 * `ConsoleDriver`: the virtio-console front-end driver for port 0, VirtIO 1.2 §5.3.5–§5.3.6
 * (virtio-argo.md §2.15), written against `VirtioTransport` only. `write(text)` sends output
 * through transmitq (one device-readable buffer per write); input arrives in receive buffers
 * posted before DRIVER_OK and re-posted after use, and is handed to `onData` handlers and to
 * `read()`. `emergencyWrite(char)` uses `emerg_wr` when VIRTIO_CONSOLE_F_EMERG_WRITE is offered.
 * When the device fails (or the driver is closed) every write it still holds and every waiting
 * `read()` rejects with the driver's error: the core detached their buffers, so nothing else
 * would ever settle them.
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
} from "../../spec/virtio-console.js";
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
  readonly fail: (err: Error) => void;
}

/** virtio-console front-end driver, port 0 (see the module comment). */
export class ConsoleDriver {
  readonly core: VirtioDriver;
  readonly #rx: SplitQueueDriver<number>;
  readonly #tx: SplitQueueDriver<TxToken>;
  readonly #rxSize: number;
  readonly #handlers = new Set<(data: Uint8Array) => void>();
  readonly #pending: Uint8Array[] = [];
  readonly #readers: { resolve: (data: Uint8Array) => void; reject: (err: Error) => void }[] = [];
  readonly #txWaiters: (() => void)[] = [];
  /** Writes the device holds: on failure their buffers are detached, so they are rejected here. */
  readonly #txOutstanding = new Set<TxToken>();

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
    core.onFailed((error) => {
      // The core detached the queues' buffers: every write it held and every waiting reader
      // would otherwise wait forever. Waiters for room retry, see the failed state, and reject.
      for (const t of this.#txOutstanding) t.fail(error);
      this.#txOutstanding.clear();
      for (const r of this.#readers.splice(0)) r.reject(error);
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
          const token: TxToken = {
            done: () => {
              this.#txOutstanding.delete(token);
              resolve();
            },
            fail: reject,
          };
          try {
            this.#tx.add([{ addr: buf, len: bytes.length }], [], token);
          } catch (err) {
            if (err instanceof VirtQueueError && err.kind === VirtQueueErrorKind.queueFull) {
              this.#txWaiters.push(tryAdd);
              return;
            }
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          this.#txOutstanding.add(token);
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

  /**
   * The next chunk of input (buffered input first). Rejects with the driver's error once the
   * device has failed or the driver is closed (a waiting reader too), so no read waits forever.
   */
  read(): Promise<Uint8Array> {
    const next = this.#pending.shift();
    if (next !== undefined) return Promise.resolve(next);
    const st = this.core.state;
    if (st.kind === "failed") return Promise.reject(st.error);
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
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
    const ok = this.core.drainUsed(this.#rx, (used) => {
      if (used.len > 0) chunks.push(ram.read(used.token, used.len));
      this.#rx.add([], [{ addr: used.token, len: this.#rxSize }], used.token);
    });
    if (ok) void this.core.kick(this.#rx).catch(() => undefined);
    for (const c of chunks) {
      for (const h of this.#handlers) h(c);
      const reader = this.#readers.shift();
      if (reader !== undefined) reader.resolve(c);
      else this.#pending.push(c);
    }
  }

  #drainTx(): void {
    this.core.drainUsed(this.#tx, (used) => {
      used.token.done();
      this.#txWaiters.shift()?.();
    });
  }
}
