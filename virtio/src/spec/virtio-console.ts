// SPDX-License-Identifier: Apache-2.0
/**
 * virtio-console constants, VirtIO 1.2 §5.3 "Console Device" (virtio-argo.md §2.15): features,
 * queue indexes of port 0, and the config layout (cols, rows, max_nr_ports, emerg_wr).
 */
export const VIRTIO_CONSOLE_F_SIZE = 0;
export const VIRTIO_CONSOLE_F_MULTIPORT = 1;
export const VIRTIO_CONSOLE_F_EMERG_WRITE = 2;

/** receiveq(port0): device → driver (console input). */
export const VIRTIO_CONSOLE_RX_QUEUE = 0;
/** transmitq(port0): driver → device (console output). */
export const VIRTIO_CONSOLE_TX_QUEUE = 1;

export const VIRTIO_CONSOLE_CFG_COLS = 0;
export const VIRTIO_CONSOLE_CFG_ROWS = 2;
export const VIRTIO_CONSOLE_CFG_MAX_NR_PORTS = 4;
export const VIRTIO_CONSOLE_CFG_EMERG_WR = 8;
export const VIRTIO_CONSOLE_CONFIG_SIZE = 12;
