// SPDX-License-Identifier: Apache-2.0
/**
 * virtio-net constants, VirtIO 1.2 §5.1 "Network Device" (virtio-argo.md §2.14), with the spec's
 * names: the features hmx uses, the config layout, and `struct virtio_net_hdr` (12 bytes with
 * VERSION_1). Shared by the device model and the front-end driver.
 */
import { features } from "../features.js";

export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_CTRL_RX = 18;
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;

/**
 * The net features hmx implements on both sides — the device model offers them and the driver
 * asks for them: MAC, link status, MTU, and the control queue with RX modes and MAC ADDR_SET.
 * The transport features (`TRANSPORT_FEATURES`) come on top.
 */
export const VIRTIO_NET_HMX_FEATURES = features(
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
);

/** Queue indexes with one queue pair (§5.1.2). */
export const VIRTIO_NET_RX_QUEUE = 0;
export const VIRTIO_NET_TX_QUEUE = 1;
/** controlq: 2N with N = 1 queue pair, present with VIRTIO_NET_F_CTRL_VQ (§5.1.2). */
export const VIRTIO_NET_CTRL_QUEUE = 2;

// Control queue (§5.1.6.5): `{ u8 class; u8 command; u8 data[]; u8 ack; }`.
export const VIRTIO_NET_CTRL_HDR_SIZE = 2;
export const VIRTIO_NET_OK = 0;
export const VIRTIO_NET_ERR = 1;
export const VIRTIO_NET_CTRL_RX = 0;
export const VIRTIO_NET_CTRL_RX_PROMISC = 0;
export const VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
export const VIRTIO_NET_CTRL_MAC = 1;
export const VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;
export const VIRTIO_NET_CTRL_MAC_ADDR_SET = 1;

// Config layout (§5.1.4).
export const VIRTIO_NET_CFG_MAC = 0;
export const VIRTIO_NET_CFG_STATUS = 6;
export const VIRTIO_NET_CFG_MAX_VQ_PAIRS = 8;
export const VIRTIO_NET_CFG_MTU = 10;
/** Bytes of config hmx exposes (mac, status, max_virtqueue_pairs, mtu). */
export const VIRTIO_NET_CONFIG_SIZE = 12;
export const VIRTIO_NET_S_LINK_UP = 1;

/** `struct virtio_net_hdr` with VERSION_1 (num_buffers included): 12 bytes. */
export const VIRTIO_NET_HDR_SIZE = 12;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** Offset of `num_buffers` in the header. */
export const VIRTIO_NET_HDR_NUM_BUFFERS = 10;

/** MTU the device advertises; frames are at most MTU + 14 (+4 for an 802.1Q tag). */
export const DEFAULT_MTU = 1500;
/** Receive buffer size without MRG_RXBUF or GSO: header + 1514-byte frame (+ VLAN tag). */
export const RX_BUFFER_SIZE = VIRTIO_NET_HDR_SIZE + 1518;
