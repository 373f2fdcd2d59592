// SPDX-License-Identifier: Apache-2.0
/**
 * `NetDevice`: the virtio-net device model, VirtIO 1.2 §5.1 (virtio-argo.md §2.14, §4.10), as one
 * port of an `L2Switch`: receiveq1 (0) and transmitq1 (1), no control queue, no offloads, no
 * MRG_RXBUF — a 12-byte `virtio_net_hdr` before every frame. Config: the port's MAC
 * (VIRTIO_NET_F_MAC), link status (VIRTIO_NET_F_STATUS, always up) and the MTU
 * (VIRTIO_NET_F_MTU).
 *
 * TX: each chain is header + frame, device-readable (§5.1.6.2; "the device MUST NOT make
 * assumptions about the descriptor arrangement"); the frame goes to the switch, the buffer back
 * with used.len 0. RX: frames from the switch fill the driver's posted, device-writable buffers
 * with header (num_buffers = 1) + frame; frames that arrive with no buffer posted wait in a
 * bounded backlog (default 256 frames) and are dropped beyond it.
 *
 * Hostile driver (§4.9): a TX chain with device-writable parts, an RX chain with device-readable
 * parts, a TX chain shorter than the header, or an RX buffer too small for the frame is counted
 * (readableRequired / writableRequired / malformedRequest) and completed with used.len 0.
 */
import { ConfigSpace } from "../../config-space.js";
import { VirtioDeviceBase, VirtioDeviceId } from "../../device.js";
import { TRANSPORT_FEATURES, features } from "../../features.js";
import { ViolationKind } from "../../violation-log.js";
import type { L2Switch } from "./l2-switch.js";
import type { MacAddress } from "./ethernet.js";
import {
  DEFAULT_MTU,
  VIRTIO_NET_CFG_MAC,
  VIRTIO_NET_CFG_MAX_VQ_PAIRS,
  VIRTIO_NET_CFG_MTU,
  VIRTIO_NET_CFG_STATUS,
  VIRTIO_NET_CONFIG_SIZE,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_HDR_NUM_BUFFERS,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_RX_QUEUE,
  VIRTIO_NET_S_LINK_UP,
  VIRTIO_NET_TX_QUEUE,
} from "./virtio-net.js";

export interface NetDeviceOptions {
  readonly switch: L2Switch;
  readonly mac: MacAddress;
  readonly name?: string;
  /** QueueNumMax for both queues (default 256). */
  readonly queueSize?: number;
  /** Frames held while no receive buffer is posted (default 256). */
  readonly rxBacklog?: number;
}

export interface NetDeviceStats {
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
  rxDropped: number;
}

/** virtio-net device model attached to a switch (see the module comment). */
export class NetDevice extends VirtioDeviceBase {
  readonly deviceType = VirtioDeviceId.net;
  readonly name: string;
  readonly availableFeatures =
    TRANSPORT_FEATURES | features(VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MTU);
  readonly queueMaxSizes: readonly number[];
  readonly config = new ConfigSpace(VIRTIO_NET_CONFIG_SIZE);
  readonly mac: MacAddress;
  readonly port: number;
  readonly stats: NetDeviceStats = {
    txFrames: 0,
    txBytes: 0,
    rxFrames: 0,
    rxBytes: 0,
    rxDropped: 0,
  };
  readonly #switch: L2Switch;
  readonly #backlog: Uint8Array[] = [];
  readonly #backlogMax: number;

  constructor(options: NetDeviceOptions) {
    super();
    this.mac = options.mac.slice();
    this.name = options.name ?? "net";
    const q = options.queueSize ?? 256;
    this.queueMaxSizes = [q, q];
    this.#backlogMax = options.rxBacklog ?? 256;
    this.#switch = options.switch;
    const cfg = new DataView(new ArrayBuffer(VIRTIO_NET_CONFIG_SIZE));
    new Uint8Array(cfg.buffer).set(this.mac, VIRTIO_NET_CFG_MAC);
    cfg.setUint16(VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP, true);
    cfg.setUint16(VIRTIO_NET_CFG_MAX_VQ_PAIRS, 1, true);
    cfg.setUint16(VIRTIO_NET_CFG_MTU, DEFAULT_MTU, true);
    this.config.initialize(0, new Uint8Array(cfg.buffer));
    this.port = this.#switch.attach({
      name: this.name,
      deliver: (frame) => {
        this.#receive(frame);
      },
    });
  }

  /** Leaves the switch (the port's MACs are forgotten). */
  detach(): void {
    this.#switch.detach(this.port);
  }

  queueNotify(index: number): void {
    if (index === VIRTIO_NET_TX_QUEUE) this.#transmit();
    else if (index === VIRTIO_NET_RX_QUEUE) this.#fillRx();
  }

  protected override onReset(): void {
    this.#backlog.length = 0;
  }

  #transmit(): void {
    this.drainTransmitQueue(VIRTIO_NET_TX_QUEUE, (chain, ctx) => {
      if (chain.readableBytes < VIRTIO_NET_HDR_SIZE) {
        ctx.violations.report(ViolationKind.malformedRequest, {
          device: this.name,
          queue: VIRTIO_NET_TX_QUEUE,
          head: chain.head,
        });
        return;
      }
      const r = chain.reader();
      r.read(VIRTIO_NET_HDR_SIZE); // no offloads negotiated: nothing in the header matters
      const frame = r.readAll();
      this.stats.txFrames++;
      this.stats.txBytes += frame.length;
      this.#switch.forward(this.port, frame);
    });
  }

  #receive(frame: Uint8Array): void {
    if (this.active === undefined) {
      this.stats.rxDropped++;
      return;
    }
    if (this.#backlog.length >= this.#backlogMax) {
      this.stats.rxDropped++;
      return;
    }
    // Copy: the switch hands the same frame to every flooded port.
    this.#backlog.push(frame.slice());
    this.#fillRx();
  }

  #fillRx(): void {
    const q = this.queue(VIRTIO_NET_RX_QUEUE);
    const ctx = this.active;
    if (q === undefined || ctx === undefined) return;
    let any = false;
    while (this.#backlog.length > 0) {
      const chain = q.pop();
      if (chain === undefined) break;
      any = true;
      const frame = this.#backlog[0];
      if (frame === undefined) break;
      if (chain.readableBytes > 0) {
        ctx.violations.report(ViolationKind.writableRequired, {
          device: this.name,
          queue: VIRTIO_NET_RX_QUEUE,
          head: chain.head,
        });
        q.addUsed(chain.head, 0);
        continue;
      }
      if (chain.writableBytes < VIRTIO_NET_HDR_SIZE + frame.length) {
        ctx.violations.report(ViolationKind.malformedRequest, {
          device: this.name,
          queue: VIRTIO_NET_RX_QUEUE,
          head: chain.head,
          reason: "rx buffer too small",
        });
        q.addUsed(chain.head, 0);
        this.#backlog.shift();
        this.stats.rxDropped++;
        continue;
      }
      this.#backlog.shift();
      const hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
      new DataView(hdr.buffer).setUint16(VIRTIO_NET_HDR_NUM_BUFFERS, 1, true);
      const w = chain.writer();
      w.write(hdr);
      w.write(frame);
      this.stats.rxFrames++;
      this.stats.rxBytes += frame.length;
      q.addUsed(chain.head, VIRTIO_NET_HDR_SIZE + frame.length);
    }
    if (any) q.signalUsed();
  }
}
