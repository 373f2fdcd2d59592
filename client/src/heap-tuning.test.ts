// SPDX-License-Identifier: Apache-2.0
/**
 * Tests of the data-path heap tuning: the env override turns it off or changes the percent,
 * garbage in the override leaves V8's default, and applying it twice is harmless.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DATA_PATH_HEAP_GROWING_PERCENT, tuneHeapForDataPath } from "./heap-tuning.js";

describe("heap tuning for the data path", () => {
  it("HMX_HEAP_GROWING_PERCENT=0 or garbage leaves V8's default", () => {
    assert.equal(tuneHeapForDataPath({ HMX_HEAP_GROWING_PERCENT: "0" }), null);
    assert.equal(tuneHeapForDataPath({ HMX_HEAP_GROWING_PERCENT: "lots" }), null);
    assert.equal(tuneHeapForDataPath({ HMX_HEAP_GROWING_PERCENT: "-5" }), null);
  });

  it("applies the default percent, once, and says so on every call", () => {
    assert.equal(tuneHeapForDataPath({}), DATA_PATH_HEAP_GROWING_PERCENT);
    assert.equal(tuneHeapForDataPath({}), DATA_PATH_HEAP_GROWING_PERCENT);
  });
});
