// SPDX-License-Identifier: Apache-2.0
/**
 * `ConsoleDevice`: the virtio-console device model, VirtIO 1.2 §5.3 (virtio-argo.md §2.15,
 * §4.10), port 0 only (no MULTIPORT): transmitq carries the guest's output to `onOutput`,
 * receiveq carries input given to `sendInput` into the driver's posted buffers. VIRTIO_CONSOLE_F_SIZE
 * exposes cols/rows; VIRTIO_CONSOLE_F_EMERG_WRITE makes a config write of `emerg_wr` output one
 * character, "even on an unconfigured device" (so it works before DRIVER_OK).
 *
 * Rules (§5.3.6.1: "only device-writable buffers in receiveq and only device-readable buffers in
 * transmitq"): a transmit chain with writable parts, or a receive chain with readable parts, is
 * counted (readableRequired / writableRequired) and completed with used.len 0. Input waiting for
 * receive buffers is held in a bounded backlog (default 64 KiB), the excess dropped and counted.
 */
import { ConfigSpace } from "../../config-space.js";
import { VirtioDeviceBase, VirtioDeviceId } from "../../device.js";
import { TRANSPORT_FEATURES, features } from "../../features.js";
import {
  VIRTIO_CONSOLE_CFG_COLS,
  VIRTIO_CONSOLE_CFG_EMERG_WR,
  VIRTIO_CONSOLE_CFG_MAX_NR_PORTS,
  VIRTIO_CONSOLE_CFG_ROWS,
  VIRTIO_CONSOLE_CONFIG_SIZE,
  VIRTIO_CONSOLE_F_EMERG_WRITE,
  VIRTIO_CONSOLE_F_SIZE,
  VIRTIO_CONSOLE_RX_QUEUE,
  VIRTIO_CONSOLE_TX_QUEUE,
} from "../../spec/virtio-console.js";

export interface ConsoleDeviceOptions {
  readonly name?: string;
  /** Receives every byte the guest writes (transmitq and emerg_wr). */
  readonly onOutput: (bytes: Uint8Array) => void;
  readonly cols?: number;
  readonly rows?: number;
  readonly queueSize?: number;
  /** Input bytes held while no receive buffer is posted (default 65536). */
  readonly inputBacklogBytes?: number;
}

export interface ConsoleDeviceStats {
  outputBytes: number;
  inputBytes: number;
  inputDropped: number;
}

/** virtio-console device model, port 0 (see the module comment). */
export class ConsoleDevice extends VirtioDeviceBase {
  readonly deviceType = VirtioDeviceId.console;
  readonly name: string;
  readonly availableFeatures =
    TRANSPORT_FEATURES | features(VIRTIO_CONSOLE_F_SIZE, VIRTIO_CONSOLE_F_EMERG_WRITE);
  readonly queueMaxSizes: readonly number[];
  readonly config: ConfigSpace;
  readonly stats: ConsoleDeviceStats = { outputBytes: 0, inputBytes: 0, inputDropped: 0 };
  readonly #onOutput: (bytes: Uint8Array) => void;
  readonly #backlogMax: number;
  #backlog: Uint8Array = new Uint8Array(0);

  constructor(options: ConsoleDeviceOptions) {
    super();
    this.name = options.name ?? "console";
    this.#onOutput = options.onOutput;
    const q = options.queueSize ?? 64;
    this.queueMaxSizes = [q, q];
    this.#backlogMax = options.inputBacklogBytes ?? 65536;
    this.config = new ConfigSpace(VIRTIO_CONSOLE_CONFIG_SIZE, [
      {
        offset: VIRTIO_CONSOLE_CFG_EMERG_WR,
        size: 4,
        onWrite: (offset, bytes) => {
          // Only a write that covers the low byte outputs a character.
          if (offset === VIRTIO_CONSOLE_CFG_EMERG_WR && bytes.length >= 1)
            this.#output(bytes.subarray(0, 1));
        },
      },
    ]);
    const cfg = new DataView(new ArrayBuffer(VIRTIO_CONSOLE_CONFIG_SIZE));
    cfg.setUint16(VIRTIO_CONSOLE_CFG_COLS, options.cols ?? 80, true);
    cfg.setUint16(VIRTIO_CONSOLE_CFG_ROWS, options.rows ?? 25, true);
    cfg.setUint32(VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 1, true);
    this.config.initialize(0, new Uint8Array(cfg.buffer));
  }

  /** Delivers input to the guest (now, or when it posts receive buffers). */
  sendInput(bytes: Uint8Array): void {
    const room = this.#backlogMax - this.#backlog.length;
    const take = Math.min(room, bytes.length);
    this.stats.inputDropped += bytes.length - take;
    if (take > 0) {
      const next = new Uint8Array(this.#backlog.length + take);
      next.set(this.#backlog);
      next.set(bytes.subarray(0, take), this.#backlog.length);
      this.#backlog = next;
    }
    this.#fillRx();
  }

  /** Updates cols/rows (a config change the driver is notified of). */
  resize(cols: number, rows: number): void {
    this.config.setU16(VIRTIO_CONSOLE_CFG_COLS, cols);
    this.config.setU16(VIRTIO_CONSOLE_CFG_ROWS, rows);
  }

  queueNotify(index: number): void {
    if (index === VIRTIO_CONSOLE_TX_QUEUE) this.#drainTx();
    else if (index === VIRTIO_CONSOLE_RX_QUEUE) this.#fillRx();
  }

  protected override onReset(): void {
    this.#backlog = new Uint8Array(0);
  }

  #output(bytes: Uint8Array): void {
    this.stats.outputBytes += bytes.length;
    this.#onOutput(bytes);
  }

  #drainTx(): void {
    this.drainTransmitQueue(VIRTIO_CONSOLE_TX_QUEUE, (chain) => {
      this.#output(chain.reader().readAll());
    });
  }

  #fillRx(): void {
    this.fillReceiveQueue(
      VIRTIO_CONSOLE_RX_QUEUE,
      () => this.#backlog.length > 0,
      (chain) => {
        const n = Math.min(chain.writableBytes, this.#backlog.length);
        chain.writer().write(this.#backlog.subarray(0, n));
        this.#backlog = this.#backlog.slice(n);
        this.stats.inputBytes += n;
        return n;
      },
    );
  }
}
