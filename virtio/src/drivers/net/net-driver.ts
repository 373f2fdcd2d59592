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
 *
 * Control queue (VIRTIO_NET_F_CTRL_VQ, §5.1.6.5), set up as queue 2 when negotiated:
 * `setPromiscuous` / `setAllMulticast` (VIRTIO_NET_F_CTRL_RX), `setMacTable`
 * (MAC TABLE_SET, CTRL_RX) and `setMac` (MAC ADDR_SET, VIRTIO_NET_F_CTRL_MAC_ADDR). One command
 * at a time: `{class, command, data}` device-readable, one ack byte device-writable (preset to
 * 0xff so a device that never writes it cannot pass for OK); an ack other than OK rejects with
 * `requestFailed`. Without the feature the call rejects with `missingFeature` and sends
 * nothing. With CTRL_RX the driver turns promiscuous mode off at start (the device resets to
 * promiscuous, `RxFilter`), unless `promiscuous` is asked for. A MAC change is announced to
 * `onMacChange` handlers (MiniIpStack follows it).
 *
 * `resetQueue(index)` resets one queue (VIRTIO_F_RING_RESET) and sets it up again: receive
 * buffers are reclaimed and posted afresh, pending sends and control commands are rejected with
 * kind `reset`; the other queues keep running.
 */
import { VirtioDeviceId } from "../../device.js";
import { TRANSPORT_FEATURES, features, hasFeature } from "../../features.js";
import type { SplitQueueDriver } from "../../queue/split-queue-driver.js";
import { VirtQueueError, VirtQueueErrorKind } from "../../queue/virtqueue-error.js";
import type { VirtioTransport } from "../../transport/transport.js";
import { ViolationKind } from "../../violation-log.js";
import { formatMac, isMulticastMac, type MacAddress } from "../../packets/ethernet.js";
import {
  RX_BUFFER_SIZE,
  VIRTIO_NET_CFG_MAC,
  VIRTIO_NET_CTRL_HDR_SIZE,
  VIRTIO_NET_CTRL_MAC,
  VIRTIO_NET_CTRL_MAC_ADDR_SET,
  VIRTIO_NET_CTRL_MAC_TABLE_SET,
  VIRTIO_NET_CTRL_QUEUE,
  VIRTIO_NET_CTRL_RX,
  VIRTIO_NET_CTRL_RX_ALLMULTI,
  VIRTIO_NET_CTRL_RX_PROMISC,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_OK,
  VIRTIO_NET_RX_QUEUE,
  VIRTIO_NET_TX_QUEUE,
  VIRTIO_NET_HMX_FEATURES,
} from "../../spec/virtio-net.js";
import { VirtioDriver, type VirtioDriverOptions } from "../virtio-driver.js";
import { VirtioDriverError, VirtioDriverErrorKind } from "../virtio-driver-error.js";

export const NET_DRIVER_FEATURES = TRANSPORT_FEATURES | VIRTIO_NET_HMX_FEATURES;

export interface NetDriverOptions extends VirtioDriverOptions {
  /** Receive buffers kept posted (default 32). */
  readonly rxBuffers?: number;
  readonly queueSize?: number;
  /** Largest control queue (default 64). */
  readonly ctrlQueueSize?: number;
  /** Stay promiscuous after start (default false; needs VIRTIO_NET_F_CTRL_RX to matter). */
  readonly promiscuous?: boolean;
  /** Negotiate without these features (tests of the negotiation paths). */
  readonly withoutFeatures?: bigint;
}

export interface NetDriverStats {
  txFrames: number;
  rxFrames: number;
  rxErrors: number;
}

interface TxToken {
  readonly buf: number;
  readonly done: () => void;
  readonly fail: (err: Error) => void;
}

interface CtrlToken {
  readonly done: () => void;
  readonly fail: (err: Error) => void;
}

/** virtio-net front-end driver (see the module comment). */
export class NetDriver {
  readonly core: VirtioDriver;
  readonly stats: NetDriverStats = { txFrames: 0, rxFrames: 0, rxErrors: 0 };
  #mac: MacAddress;
  #rx: SplitQueueDriver<number>;
  #tx: SplitQueueDriver<TxToken>;
  #ctrl: SplitQueueDriver<CtrlToken> | undefined;
  readonly #handlers = new Set<(frame: Uint8Array) => void>();
  readonly #macHandlers = new Set<(mac: MacAddress) => void>();
  readonly #txWaiters: (() => void)[] = [];
  /** Sends the device holds: on failure their buffers are detached, so they are rejected here. */
  readonly #txOutstanding = new Set<TxToken>();
  readonly #ctrlPending = new Set<CtrlToken>();
  #ctrlLock: Promise<unknown> = Promise.resolve();
  readonly #rxBuffers: number;
  readonly #sizes: readonly [number, number, number];
  /** Queues being reset: their users wait. */
  readonly #resetting = new Set<number>();

  private constructor(
    core: VirtioDriver,
    mac: MacAddress,
    rx: SplitQueueDriver<number>,
    tx: SplitQueueDriver<TxToken>,
    ctrl: SplitQueueDriver<CtrlToken> | undefined,
    rxBuffers: number,
    sizes: readonly [number, number, number],
  ) {
    this.core = core;
    this.#mac = mac;
    this.#rx = rx;
    this.#tx = tx;
    this.#ctrl = ctrl;
    this.#rxBuffers = rxBuffers;
    this.#sizes = sizes;
    core.onFailed((error) => {
      // The core detached every queue's buffers: reject what they held, or those sends and
      // commands would wait forever. Waiters for room retry, see the failed state, and reject.
      for (const t of this.#txOutstanding) t.fail(error);
      this.#txOutstanding.clear();
      for (const c of this.#ctrlPending) c.fail(error);
      this.#ctrlPending.clear();
      for (const w of this.#txWaiters.splice(0)) w();
    });
  }

  static async create(
    transport: VirtioTransport,
    options: NetDriverOptions = {},
  ): Promise<NetDriver> {
    const core = new VirtioDriver(transport, options);
    const negotiated = await core.negotiate(
      VirtioDeviceId.net,
      NET_DRIVER_FEATURES & ~(options.withoutFeatures ?? 0n),
      features(VIRTIO_NET_F_MAC),
    );
    const mac = await core.readConfigStable(VIRTIO_NET_CFG_MAC, 6);
    const ref: { d?: NetDriver } = {};
    const sizes = [
      options.queueSize ?? 256,
      options.queueSize ?? 256,
      options.ctrlQueueSize ?? 64,
    ] as const;
    const rx = await core.setupQueue<number>(
      VIRTIO_NET_RX_QUEUE,
      () => {
        if (ref.d !== undefined) ref.d.#drainRx();
      },
      sizes[0],
    );
    const tx = await core.setupQueue<TxToken>(
      VIRTIO_NET_TX_QUEUE,
      () => {
        if (ref.d !== undefined) ref.d.#drainTx();
      },
      sizes[1],
    );
    const ctrl = hasFeature(negotiated, VIRTIO_NET_F_CTRL_VQ)
      ? await core.setupQueue<CtrlToken>(
          VIRTIO_NET_CTRL_QUEUE,
          () => {
            if (ref.d !== undefined) ref.d.#drainCtrl();
          },
          sizes[2],
        )
      : undefined;
    const d = new NetDriver(core, mac, rx, tx, ctrl, options.rxBuffers ?? 32, sizes);
    ref.d = d;
    d.#fillRx();
    rx.kickPrepare(); // consume the "added" count: no kick before DRIVER_OK
    await core.driverOk();
    // The device starts promiscuous (its reset state); a NIC coming up filters (Linux ndo_open).
    if (hasFeature(negotiated, VIRTIO_NET_F_CTRL_RX) && options.promiscuous !== true)
      await d.setPromiscuous(false);
    return d;
  }

  /** The MAC the NIC uses (config `mac`, or the last `setMac`). */
  get mac(): MacAddress {
    return this.#mac.slice();
  }

  /** Runs `handler` after every MAC change. Returns the unsubscribe function. */
  onMacChange(handler: (mac: MacAddress) => void): () => void {
    this.#macHandlers.add(handler);
    return () => this.#macHandlers.delete(handler);
  }

  /** Promiscuous mode on or off (VIRTIO_NET_CTRL_RX_PROMISC; needs VIRTIO_NET_F_CTRL_RX). */
  setPromiscuous(on: boolean): Promise<void> {
    return this.#command(
      VIRTIO_NET_F_CTRL_RX,
      VIRTIO_NET_CTRL_RX,
      VIRTIO_NET_CTRL_RX_PROMISC,
      Uint8Array.of(on ? 1 : 0),
    );
  }

  /** All-multicast mode on or off (VIRTIO_NET_CTRL_RX_ALLMULTI; needs VIRTIO_NET_F_CTRL_RX). */
  setAllMulticast(on: boolean): Promise<void> {
    return this.#command(
      VIRTIO_NET_F_CTRL_RX,
      VIRTIO_NET_CTRL_RX,
      VIRTIO_NET_CTRL_RX_ALLMULTI,
      Uint8Array.of(on ? 1 : 0),
    );
  }

  /** Replaces the MAC filtering tables (VIRTIO_NET_CTRL_MAC_TABLE_SET; needs CTRL_RX). */
  setMacTable(unicast: readonly MacAddress[], multicast: readonly MacAddress[]): Promise<void> {
    for (const m of [...unicast, ...multicast]) checkMacLength(m);
    const data = new Uint8Array(8 + 6 * (unicast.length + multicast.length));
    const v = new DataView(data.buffer);
    let at = 0;
    for (const table of [unicast, multicast]) {
      v.setUint32(at, table.length, true);
      at += 4;
      for (const m of table) {
        data.set(m, at);
        at += 6;
      }
    }
    return this.#command(
      VIRTIO_NET_F_CTRL_RX,
      VIRTIO_NET_CTRL_MAC,
      VIRTIO_NET_CTRL_MAC_TABLE_SET,
      data,
    );
  }

  /**
   * Changes the NIC's MAC (VIRTIO_NET_CTRL_MAC_ADDR_SET; needs VIRTIO_NET_F_CTRL_MAC_ADDR). A
   * MAC that is not 6 bytes, multicast or all zero is refused before anything is sent.
   */
  async setMac(mac: MacAddress): Promise<void> {
    checkMacLength(mac);
    if (isMulticastMac(mac) || mac.every((b) => b === 0))
      throw new RangeError(`${formatMac(mac)} is not a unicast MAC address`);
    const next = mac.slice();
    await this.#command(
      VIRTIO_NET_F_CTRL_MAC_ADDR,
      VIRTIO_NET_CTRL_MAC,
      VIRTIO_NET_CTRL_MAC_ADDR_SET,
      next,
    );
    this.#mac = next;
    for (const h of this.#macHandlers) h(next.slice());
  }

  /**
   * Resets queue `index` (receiveq 0, transmitq 1, controlq 2; VIRTIO_F_RING_RESET) and sets it
   * up again with at most `size` entries (default: the size asked for at creation). Receive
   * buffers are reclaimed and fresh ones posted; pending sends or commands are rejected with
   * kind `reset`. Resolves with the number of buffers detached.
   */
  async resetQueue(index: number, options: { readonly size?: number } = {}): Promise<number> {
    const size = options.size ?? this.#sizes[index as 0 | 1 | 2];
    if (
      (index !== VIRTIO_NET_RX_QUEUE &&
        index !== VIRTIO_NET_TX_QUEUE &&
        index !== VIRTIO_NET_CTRL_QUEUE) ||
      (index === VIRTIO_NET_CTRL_QUEUE && this.#ctrl === undefined)
    )
      throw new VirtioDriverError(
        VirtioDriverErrorKind.queueUnavailable,
        `queue ${index} is not a queue of this NIC`,
      );
    if (this.#resetting.has(index))
      throw new VirtioDriverError(VirtioDriverErrorKind.reset, `queue ${index} reset in progress`);
    this.#resetting.add(index);
    const aborted = new VirtioDriverError(
      VirtioDriverErrorKind.reset,
      `aborted by a reset of queue ${index}`,
    );
    const { dma } = this.core.transport;
    try {
      let detached = 0;
      if (index === VIRTIO_NET_RX_QUEUE) {
        const bufs = await this.core.resetQueue<number>(index);
        detached = bufs.length;
        for (const b of bufs) dma.free(b);
        this.#rx = await this.#reenable<number>(index, size, () => {
          this.#drainRx();
        });
        this.#fillRx();
        await this.core.kick(this.#rx);
      } else if (index === VIRTIO_NET_TX_QUEUE) {
        const sends = await this.core.resetQueue<TxToken>(index);
        detached = sends.length;
        for (const t of sends) t.fail(aborted);
        this.#tx = await this.#reenable<TxToken>(index, size, () => {
          this.#drainTx();
        });
      } else {
        const cmds = await this.core.resetQueue<CtrlToken>(index);
        detached = cmds.length;
        for (const c of cmds) {
          this.#ctrlPending.delete(c);
          c.fail(aborted);
        }
        this.#ctrl = await this.#reenable<CtrlToken>(index, size, () => {
          this.#drainCtrl();
        });
      }
      return detached;
    } finally {
      this.#resetting.delete(index);
      if (index === VIRTIO_NET_TX_QUEUE) for (const w of this.#txWaiters.splice(0)) w();
    }
  }

  async #reenable<T>(
    index: number,
    size: number,
    handler: () => void,
  ): Promise<SplitQueueDriver<T>> {
    try {
      return await this.core.enableQueue<T>(index, handler, size);
    } catch (err) {
      // A NIC without one of its queues is unusable: give up on the device.
      await this.core.fail(
        new VirtioDriverError(
          VirtioDriverErrorKind.queueUnavailable,
          `queue ${index} could not be re-enabled`,
          { cause: err },
        ),
      );
      throw err;
    }
  }

  /** Sends one control command and waits for its ack (one command at a time). */
  #command(feature: number, cls: number, cmd: number, data: Uint8Array): Promise<void> {
    if (!hasFeature(this.core.features, feature)) {
      return Promise.reject(
        new VirtioDriverError(
          VirtioDriverErrorKind.missingFeature,
          `control class ${cls} command ${cmd} needs feature bit ${feature}, not negotiated`,
        ),
      );
    }
    const run = async (): Promise<void> => {
      const st = this.core.state;
      if (st.kind === "failed") throw st.error;
      const ctrl = this.#ctrl;
      if (ctrl === undefined || this.#resetting.has(VIRTIO_NET_CTRL_QUEUE))
        throw new VirtioDriverError(
          VirtioDriverErrorKind.queueUnavailable,
          "the control queue is not available",
        );
      const { ram, dma } = this.core.transport;
      const len = VIRTIO_NET_CTRL_HDR_SIZE + data.length;
      const buf = dma.alloc(len, 16);
      const ack = dma.alloc(1, 1);
      try {
        ram.writeU8(buf, cls);
        ram.writeU8(buf + 1, cmd);
        ram.write(buf + VIRTIO_NET_CTRL_HDR_SIZE, data);
        ram.writeU8(ack, 0xff);
        await new Promise<void>((resolve, reject) => {
          const token: CtrlToken = { done: resolve, fail: reject };
          ctrl.add([{ addr: buf, len }], [{ addr: ack, len: 1 }], token);
          this.#ctrlPending.add(token);
          this.core.kick(ctrl).catch(reject);
        });
        const answer = ram.readU8(ack);
        if (answer !== VIRTIO_NET_OK)
          throw new VirtioDriverError(
            VirtioDriverErrorKind.requestFailed,
            `control class ${cls} command ${cmd}: the device answered ${answer === 1 ? "ERR" : `0x${answer.toString(16)}`}`,
          );
      } finally {
        dma.free(buf);
        dma.free(ack);
      }
    };
    const p = this.#ctrlLock.then(run, run);
    this.#ctrlLock = p.catch(() => undefined);
    return p;
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
          if (this.#resetting.has(VIRTIO_NET_TX_QUEUE)) {
            this.#txWaiters.push(tryAdd);
            return;
          }
          const token: TxToken = {
            buf,
            done: () => {
              this.#txOutstanding.delete(token);
              resolve();
            },
            fail: (err) => {
              this.#txOutstanding.delete(token);
              reject(err);
            },
          };
          try {
            this.#tx.add([{ addr: buf, len: VIRTIO_NET_HDR_SIZE + frame.length }], [], token);
          } catch (err) {
            if (err instanceof VirtQueueError && err.kind === VirtQueueErrorKind.queueFull) {
              this.#txWaiters.push(tryAdd);
              return;
            }
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          this.#txOutstanding.add(token);
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

  /** Posts fresh receive buffers up to `rxBuffers` (or the queue size). */
  #fillRx(): void {
    const n = Math.min(this.#rxBuffers, this.#rx.size) - this.#rx.inFlight;
    for (let i = 0; i < n; i++) this.#postRx(this.core.transport.dma.alloc(RX_BUFFER_SIZE, 16));
  }

  #drainCtrl(): void {
    const ctrl = this.#ctrl;
    if (ctrl === undefined) return;
    this.core.drainUsed(ctrl, (used) => {
      this.#ctrlPending.delete(used.token);
      used.token.done();
    });
  }

  #drainRx(): void {
    const { ram } = this.core.transport;
    const frames: Uint8Array[] = [];
    const ok = this.core.drainUsed(this.#rx, (used) => {
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
    });
    if (ok) void this.core.kick(this.#rx).catch(() => undefined);
    for (const f of frames) {
      this.stats.rxFrames++;
      for (const h of this.#handlers) h(f);
    }
  }

  #drainTx(): void {
    this.core.drainUsed(this.#tx, (used) => {
      used.token.done();
      this.#txWaiters.shift()?.();
    });
  }
}

function checkMacLength(mac: MacAddress): void {
  if (mac.length !== 6) throw new RangeError(`a MAC address is 6 bytes, got ${mac.length}`);
}
