// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

/**
 * A virtio device type; the values are the VirtIO device IDs.
 */
export const DeviceType = {
  DEVICE_TYPE_UNSPECIFIED: 'DEVICE_TYPE_UNSPECIFIED',
  DEVICE_TYPE_NET: 'DEVICE_TYPE_NET',
  DEVICE_TYPE_BLK: 'DEVICE_TYPE_BLK',
  DEVICE_TYPE_CONSOLE: 'DEVICE_TYPE_CONSOLE',
} as const;

/**
 * A virtio device type; the values are the VirtIO device IDs.
 */
export type DeviceType =
  | 'DEVICE_TYPE_UNSPECIFIED'
  | 0
  | 'DEVICE_TYPE_NET'
  | 1
  | 'DEVICE_TYPE_BLK'
  | 2
  | 'DEVICE_TYPE_CONSOLE'
  | 3

/**
 * A virtio device type; the values are the VirtIO device IDs.
 */
export type DeviceType__Output = typeof DeviceType[keyof typeof DeviceType]
