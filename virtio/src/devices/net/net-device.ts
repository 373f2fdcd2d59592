// SPDX-License-Identifier: Apache-2.0
/**
 * `NetDevice`: the virtio-net device model, VirtIO 1.2 §5.1 (virtio-argo.md §2.14, §4.10), as one
 * port of an `L2Switch`: receiveq1 (0), transmitq1 (1) and controlq (2), no offloads, no
 * MRG_RXBUF — a 12-byte `virtio_net_hdr` before every frame. Config: the port's MAC
 * (VIRTIO_NET_F_MAC), link status (VIRTIO_NET_F_STATUS, always up) and the MTU
 * (VIRTIO_NET_F_MTU).
 *
 * Control queue (VIRTIO_NET_F_CTRL_VQ, §5.1.6.5; reference §4.10 "CTRL_VQ for RX-mode and MAC
 * commands (ack byte in the writable tail)"): each chain is `{u8 class; u8 command; data[]}`
 * device-readable, then the `u8 ack` device-writable. With VIRTIO_NET_F_CTRL_RX: RX PROMISC and
 * ALLMULTI (data: one byte, 0 or 1) and MAC TABLE_SET (two `{le32 entries; u8 macs[][6]}`
 * tables, unicast then multicast — needed for correct multicast filtering with all-multicast
 * off, §5.1.6.5.2); with VIRTIO_NET_F_CTRL_MAC_ADDR: MAC ADDR_SET (6 bytes, a unicast MAC),
 * which changes the port's MAC in the receive filter and in config `mac` ("The device MUST
 * update the MAC address in config before it consumes the VIRTIO_NET_CTRL_MAC_ADDR_SET
 * command"). The `RxFilter` decides what the switch delivers to this port. Acks: OK 0, ERR 1.
 * Anything malformed or not negotiated is acked ERR and counted (`controlCommandInvalid`); a
 * command chain without a writable ack byte is counted (`writableRequired`) and returned with
 * used.len 0. A device reset restores the configured MAC and the filter's reset state.
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
import { TRANSPORT_FEATURES, hasFeature } from "../../features.js";
import type { DescriptorChain } from "../../queue/descriptor-chain.js";
import { ViolationKind } from "../../violation-log.js";
import type { L2Switch } from "./l2-switch.js";
import { formatMac, isMulticastMac, type MacAddress } from "../../packets/ethernet.js";
import { RxFilter } from "./rx-filter.js";
import {
  DEFAULT_MTU,
  VIRTIO_NET_CFG_MAC,
  VIRTIO_NET_CFG_MAX_VQ_PAIRS,
  VIRTIO_NET_CFG_MTU,
  VIRTIO_NET_CFG_STATUS,
  VIRTIO_NET_CONFIG_SIZE,
  VIRTIO_NET_CTRL_HDR_SIZE,
  VIRTIO_NET_CTRL_MAC,
  VIRTIO_NET_CTRL_MAC_ADDR_SET,
  VIRTIO_NET_CTRL_MAC_TABLE_SET,
  VIRTIO_NET_CTRL_QUEUE,
  VIRTIO_NET_CTRL_RX,
  VIRTIO_NET_CTRL_RX_ALLMULTI,
  VIRTIO_NET_CTRL_RX_PROMISC,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_HDR_NUM_BUFFERS,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_OK,
  VIRTIO_NET_RX_QUEUE,
  VIRTIO_NET_S_LINK_UP,
  VIRTIO_NET_TX_QUEUE,
  VIRTIO_NET_HMX_FEATURES,
} from "../../spec/virtio-net.js";

export interface NetDeviceOptions {
  readonly switch: L2Switch;
  readonly mac: MacAddress;
  readonly name?: string;
  /** QueueNumMax for the receive and transmit queues (default 256). */
  readonly queueSize?: number;
  /** QueueNumMax for the control queue (default 64). */
  readonly ctrlQueueSize?: number;
  /** Frames held while no receive buffer is posted (default 256). */
  readonly rxBacklog?: number;
}

export interface NetDeviceStats {
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
  rxDropped: number;
  controlCommands: number;
  controlErrors: number;
}

/** Largest control command (header + data) the device reads; more is acked ERR. */
export const MAX_CONTROL_COMMAND_BYTES = 64 * 1024;

/** virtio-net device model attached to a switch (see the module comment). */
export class NetDevice extends VirtioDeviceBase {
  readonly deviceType = VirtioDeviceId.net;
  readonly name: string;
  readonly availableFeatures = TRANSPORT_FEATURES | VIRTIO_NET_HMX_FEATURES;
  readonly queueMaxSizes: readonly number[];
  readonly config = new ConfigSpace(VIRTIO_NET_CONFIG_SIZE);
  readonly port: number;
  /** What the switch may deliver to this port (the control queue changes it). */
  readonly filter: RxFilter;
  readonly stats: NetDeviceStats = {
    txFrames: 0,
    txBytes: 0,
    rxFrames: 0,
    rxBytes: 0,
    rxDropped: 0,
    controlCommands: 0,
    controlErrors: 0,
  };
  readonly #switch: L2Switch;
  readonly #backlog: Uint8Array[] = [];
  readonly #backlogMax: number;

  constructor(options: NetDeviceOptions) {
    super();
    this.filter = new RxFilter(options.mac);
    this.name = options.name ?? "net";
    const q = options.queueSize ?? 256;
    this.queueMaxSizes = [q, q, options.ctrlQueueSize ?? 64];
    this.#backlogMax = options.rxBacklog ?? 256;
    this.#switch = options.switch;
    const cfg = new DataView(new ArrayBuffer(VIRTIO_NET_CONFIG_SIZE));
    new Uint8Array(cfg.buffer).set(options.mac, VIRTIO_NET_CFG_MAC);
    cfg.setUint16(VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP, true);
    cfg.setUint16(VIRTIO_NET_CFG_MAX_VQ_PAIRS, 1, true);
    cfg.setUint16(VIRTIO_NET_CFG_MTU, DEFAULT_MTU, true);
    this.config.initialize(0, new Uint8Array(cfg.buffer));
    this.port = this.#switch.attach({
      name: this.name,
      deliver: (frame) => {
        this.#receive(frame);
      },
      accepts: (dst) => this.filter.accepts(dst),
    });
  }

  /** The port's MAC now (config `mac`; VIRTIO_NET_CTRL_MAC_ADDR_SET changes it). */
  get mac(): MacAddress {
    return this.filter.mac;
  }

  /** §5.1.3.1: CTRL_RX and CTRL_MAC_ADDR need CTRL_VQ ("MUST NOT negotiate ... without"). */
  validateFeatures(f: bigint): string | undefined {
    if (
      !hasFeature(f, VIRTIO_NET_F_CTRL_VQ) &&
      (hasFeature(f, VIRTIO_NET_F_CTRL_RX) || hasFeature(f, VIRTIO_NET_F_CTRL_MAC_ADDR))
    )
      return "VIRTIO_NET_F_CTRL_RX / VIRTIO_NET_F_CTRL_MAC_ADDR without VIRTIO_NET_F_CTRL_VQ";
    return undefined;
  }

  /** Leaves the switch (the port's MACs are forgotten). */
  detach(): void {
    this.#switch.detach(this.port);
  }

  queueNotify(index: number): void {
    if (index === VIRTIO_NET_TX_QUEUE) this.#transmit();
    else if (index === VIRTIO_NET_RX_QUEUE) this.#fillRx();
    else if (index === VIRTIO_NET_CTRL_QUEUE) this.#control();
  }

  protected override onReset(): void {
    this.#backlog.length = 0;
    this.filter.reset();
    // Back to the configured MAC without a config interrupt: the device is being reset.
    this.config.initialize(VIRTIO_NET_CFG_MAC, this.filter.mac);
  }

  protected override onQueueReset(index: number): void {
    // Frames waiting for receive buffers belong to the old ring (QEMU purges them too).
    if (index === VIRTIO_NET_RX_QUEUE) this.#backlog.length = 0;
  }

  #control(): void {
    const q = this.queue(VIRTIO_NET_CTRL_QUEUE);
    const ctx = this.active;
    if (q === undefined || ctx === undefined) return;
    let any = false;
    for (let chain = q.pop(); chain !== undefined; chain = q.pop()) {
      any = true;
      if (chain.writableBytes < 1) {
        ctx.violations.report(ViolationKind.writableRequired, {
          device: this.name,
          queue: VIRTIO_NET_CTRL_QUEUE,
          head: chain.head,
        });
        q.addUsed(chain.head, 0);
        continue;
      }
      this.stats.controlCommands++;
      const refusal = this.#command(chain, ctx.features);
      if (refusal !== undefined) {
        this.stats.controlErrors++;
        ctx.violations.report(ViolationKind.controlCommandInvalid, {
          device: this.name,
          head: chain.head,
          reason: refusal,
        });
      }
      chain.writer().writeU8(refusal === undefined ? VIRTIO_NET_OK : VIRTIO_NET_ERR);
      q.addUsed(chain.head, 1);
    }
    if (any) q.signalUsed();
  }

  /** Carries out one control command; returns why it was refused (acked ERR), if it was. */
  #command(chain: DescriptorChain, negotiated: bigint): string | undefined {
    if (chain.readableBytes < VIRTIO_NET_CTRL_HDR_SIZE) return "shorter than class + command";
    if (chain.readableBytes > MAX_CONTROL_COMMAND_BYTES)
      return `${chain.readableBytes} bytes of command`;
    const body = chain.reader().readAll();
    const cls = body[0] ?? 0;
    const cmd = body[1] ?? 0;
    const data = body.subarray(VIRTIO_NET_CTRL_HDR_SIZE);
    const what = `class ${cls} command ${cmd}`;
    if (cls === VIRTIO_NET_CTRL_RX) {
      if (!hasFeature(negotiated, VIRTIO_NET_F_CTRL_RX)) return `${what}: CTRL_RX not negotiated`;
      if (cmd !== VIRTIO_NET_CTRL_RX_PROMISC && cmd !== VIRTIO_NET_CTRL_RX_ALLMULTI)
        return `${what}: unsupported RX command`;
      const on = data[0];
      if (data.length !== 1 || on === undefined || on > 1)
        return `${what}: data must be one byte 0 or 1`;
      if (cmd === VIRTIO_NET_CTRL_RX_PROMISC) this.filter.promiscuous = on === 1;
      else this.filter.allMulticast = on === 1;
      return undefined;
    }
    if (cls === VIRTIO_NET_CTRL_MAC) {
      if (cmd === VIRTIO_NET_CTRL_MAC_ADDR_SET) {
        if (!hasFeature(negotiated, VIRTIO_NET_F_CTRL_MAC_ADDR))
          return `${what}: CTRL_MAC_ADDR not negotiated`;
        if (data.length !== 6) return `${what}: ${data.length} bytes, a MAC is 6`;
        if (isMulticastMac(data) || data.every((b) => b === 0))
          return `${what}: ${formatMac(data)} is not a unicast MAC`;
        this.#setMac(data);
        return undefined;
      }
      if (cmd === VIRTIO_NET_CTRL_MAC_TABLE_SET) {
        if (!hasFeature(negotiated, VIRTIO_NET_F_CTRL_RX)) return `${what}: CTRL_RX not negotiated`;
        const tables = parseMacTables(data);
        if (typeof tables === "string") return `${what}: ${tables}`;
        this.filter.setTables(tables[0], tables[1]);
        return undefined;
      }
      return `${what}: unsupported MAC command`;
    }
    return `${what}: unsupported class`;
  }

  #setMac(mac: Uint8Array): void {
    // Config first ("before it consumes the command"), then the filter and the switch's table,
    // so frames for the old MAC stop coming here.
    this.config.update(VIRTIO_NET_CFG_MAC, mac.slice());
    this.filter.mac = mac;
    this.#switch.forget(this.port);
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
    this.fillReceiveQueue(
      VIRTIO_NET_RX_QUEUE,
      () => this.#backlog.length > 0,
      (chain, ctx) => {
        const frame = this.#backlog.shift();
        if (frame === undefined) return 0; // unreachable: pending() said there is one
        if (chain.writableBytes < VIRTIO_NET_HDR_SIZE + frame.length) {
          ctx.violations.report(ViolationKind.malformedRequest, {
            device: this.name,
            queue: VIRTIO_NET_RX_QUEUE,
            head: chain.head,
            reason: "rx buffer too small",
          });
          this.stats.rxDropped++;
          return 0;
        }
        const hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
        new DataView(hdr.buffer).setUint16(VIRTIO_NET_HDR_NUM_BUFFERS, 1, true);
        const w = chain.writer();
        w.write(hdr);
        w.write(frame);
        this.stats.rxFrames++;
        this.stats.rxBytes += frame.length;
        return VIRTIO_NET_HDR_SIZE + frame.length;
      },
    );
  }
}

/**
 * The data of VIRTIO_NET_CTRL_MAC_TABLE_SET: two `{ le32 entries; u8 macs[entries][6]; }`,
 * unicast then multicast, nothing after. Counts are checked against the bytes present before
 * anything is allocated. Returns the two tables, or why the data is malformed.
 */
export function parseMacTables(data: Uint8Array): [MacAddress[], MacAddress[]] | string {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tables: MacAddress[][] = [];
  let at = 0;
  for (const which of ["unicast", "multicast"]) {
    if (data.length - at < 4) return `${which} table: no entry count`;
    const n = v.getUint32(at, true);
    at += 4;
    if (n > (data.length - at) / 6) return `${which} table: ${n} entries do not fit`;
    const macs: MacAddress[] = [];
    for (let i = 0; i < n; i++, at += 6) macs.push(data.slice(at, at + 6));
    tables.push(macs);
  }
  if (at !== data.length) return `${data.length - at} trailing bytes after the tables`;
  return [tables[0] ?? [], tables[1] ?? []];
}
