// SPDX-License-Identifier: Apache-2.0
/**
 * `@hmx/virtio/test-utils`: test support for the virtio code and the packages built on it —
 * never imported by product code (the image build drops every test-utils/ folder).
 */
export { activateForTest, settle, type TestActivation } from "./device-harness.js";
export {
  MockSplitQueue,
  type MockBuffer,
  type MockDesc,
  type MockSplitQueueOptions,
} from "./mock-split-queue.js";
export { propertySeed } from "./seed.js";
export { until, untilTurns, type UntilOptions } from "./until.js";
