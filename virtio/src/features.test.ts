// SPDX-License-Identifier: Apache-2.0
/** Feature negotiation rules (VirtIO 1.2 §2.2.1, §6.1). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  checkDriverFeatures,
  featureBit,
  features,
  hasFeature,
  selectDriverFeatures,
} from "./features.js";

describe("feature negotiation (VirtIO 1.2 §2.2)", () => {
  it("reserved bit numbers are the spec's: INDIRECT_DESC 28, EVENT_IDX 29, VERSION_1 32", () => {
    assert.deepEqual(
      [VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1],
      [28, 29, 32],
    );
    assert.equal(featureBit(32), 0x1_0000_0000n);
    assert.ok(hasFeature(features(1, 32), 32));
  });

  it("the device accepts an offered subset that includes VERSION_1", () => {
    assert.deepEqual(checkDriverFeatures(features(1, 28, 32), features(1, 32)), { ok: true });
  });

  it("the device refuses a subset without VERSION_1", () => {
    assert.equal(checkDriverFeatures(features(1, 32), features(1)).ok, false);
  });

  it("the device refuses a feature it did not offer", () => {
    assert.equal(checkDriverFeatures(features(32), features(5, 32)).ok, false);
  });

  it("the driver accepts the intersection plus VERSION_1, and refuses a device without VERSION_1", () => {
    assert.deepEqual(selectDriverFeatures(features(1, 5, 32), features(5)), {
      ok: true,
      features: features(5, 32),
    });
    assert.equal(selectDriverFeatures(features(1, 5), features(1, 5)).ok, false);
  });
});
