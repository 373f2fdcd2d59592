// SPDX-License-Identifier: Apache-2.0
/**
 * virtio-blk constants, VirtIO 1.2 §5.2 "Block Device" (virtio-argo.md §2.13), with the spec's
 * names: feature bits, request types, status codes, the request header and the config layout.
 * Shared by the device model and the front-end driver.
 */

// Feature bits (§5.2.3).
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_GEOMETRY = 4;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_F_TOPOLOGY = 10;
export const VIRTIO_BLK_F_CONFIG_WCE = 11;
export const VIRTIO_BLK_F_MQ = 12;

// Request types (§5.2.6).
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;

// Status codes (§5.2.6).
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

/** Sector size of `capacity` and `sector`, whatever blk_size says (§5.2.4). */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** `struct virtio_blk_req` header: le32 type @0, le32 reserved @4, le64 sector @8. */
export const VIRTIO_BLK_REQ_HEADER_SIZE = 16;
/** GET_ID answers with a 20-byte, NUL-padded string. */
export const VIRTIO_BLK_ID_BYTES = 20;

// Config layout (§5.2.4), the fields hmx fills.
export const VIRTIO_BLK_CFG_CAPACITY = 0;
export const VIRTIO_BLK_CFG_SIZE_MAX = 8;
export const VIRTIO_BLK_CFG_SEG_MAX = 12;
export const VIRTIO_BLK_CFG_BLK_SIZE = 20;
export const VIRTIO_BLK_CFG_WRITEBACK = 32;
export const VIRTIO_BLK_CFG_NUM_QUEUES = 34;
/** Size of `struct virtio_blk_config` in 1.2 (up to secure_erase_sector_alignment). */
export const VIRTIO_BLK_CONFIG_SIZE = 72;

/** Status code names, for errors and logs. */
export function blkStatusName(status: number): string {
  switch (status) {
    case VIRTIO_BLK_S_OK:
      return "OK";
    case VIRTIO_BLK_S_IOERR:
      return "IOERR";
    case VIRTIO_BLK_S_UNSUPP:
      return "UNSUPP";
    default:
      return `status ${status}`;
  }
}
