// SPDX-License-Identifier: Apache-2.0
/** virtio-blk (VirtIO 1.2 §5.2): the device model, its backends and the spec constants. */
export * from "../../spec/virtio-blk.js";
export { BlkDevice, type BlkDeviceOptions, type BlkDeviceStats } from "./blk-device.js";
export {
  parseBlkRequest,
  encodeBlkId,
  type BlkLimits,
  type BlkRequest,
  type BlkParseResult,
} from "./blk-request.js";
export { MemoryBlockBackend, type BlockBackend } from "./block-backend.js";
export { FileBlockBackend, type FileBlockBackendOptions } from "./file-block-backend.js";
