// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DeviceType as _hmx_toolstack_v1_DeviceType, DeviceType__Output as _hmx_toolstack_v1_DeviceType__Output } from '../../../hmx/toolstack/v1/DeviceType.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One virtio device of a front-end domain, served by a back-end (driver) domain over Argo.
 */
export interface DeviceSpec {
  'type'?: (_hmx_toolstack_v1_DeviceType);
  /**
   * The domain that hosts the device model (must exist and differ from the front end).
   */
  'backendDomid'?: (number);
  /**
   * A short name for logs and the table ("vda", "eth0", "hvc0"); default the type and index.
   */
  'name'?: (string);
  /**
   * blk: capacity of an image the back end creates on demand, a multiple of 512 (default 16 MiB).
   */
  'capacityBytes'?: (number | string | Long);
  /**
   * blk: expose the disk read-only.
   */
  'readOnly'?: (boolean);
  /**
   * blk: the raw image, relative to the back end's image directory (default "<fe>-<name>.img");
   * only the back end's table carries it.
   */
  'imagePath'?: (string);
  /**
   * net: the MAC address "52:54:00:xx:xx:xx" (default derived from the front end's domid).
   */
  'mac'?: (string);
  /**
   * Largest queue size offered (QueueNumMax; default 256, console 64).
   */
  'queueSize'?: (number);
  /**
   * Bytes of each Argo ring of the device (a multiple of 16; default 262,064 = 64 pages with the header; blk 1,064,896 = 260 pages, a 1 MiB request in one message).
   */
  'ringLen'?: (number);
}

/**
 * One virtio device of a front-end domain, served by a back-end (driver) domain over Argo.
 */
export interface DeviceSpec__Output {
  'type': (_hmx_toolstack_v1_DeviceType__Output);
  /**
   * The domain that hosts the device model (must exist and differ from the front end).
   */
  'backendDomid': (number);
  /**
   * A short name for logs and the table ("vda", "eth0", "hvc0"); default the type and index.
   */
  'name': (string);
  /**
   * blk: capacity of an image the back end creates on demand, a multiple of 512 (default 16 MiB).
   */
  'capacityBytes': (string);
  /**
   * blk: expose the disk read-only.
   */
  'readOnly': (boolean);
  /**
   * blk: the raw image, relative to the back end's image directory (default "<fe>-<name>.img");
   * only the back end's table carries it.
   */
  'imagePath': (string);
  /**
   * net: the MAC address "52:54:00:xx:xx:xx" (default derived from the front end's domid).
   */
  'mac': (string);
  /**
   * Largest queue size offered (QueueNumMax; default 256, console 64).
   */
  'queueSize': (number);
  /**
   * Bytes of each Argo ring of the device (a multiple of 16; default 262,064 = 64 pages with the header; blk 1,064,896 = 260 pages, a 1 MiB request in one message).
   */
  'ringLen': (number);
}
