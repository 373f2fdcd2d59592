// SPDX-License-Identifier: Apache-2.0
/**
 * `vring_need_event` (VirtIO 1.2 §2.7.10, virtio-queue.h): worked examples across the u16 wrap,
 * and a fast-check property against the definition "event_idx lies in [old, new) modulo 2^16".
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { propertySeed } from "../test-utils/seed.js";
import { vringNeedEvent } from "./need-event.js";

const seed = propertySeed("need-event");

describe("vring_need_event (VirtIO 1.2 §2.7.10)", () => {
  it("notifies when the event index was just crossed", () => {
    assert.equal(vringNeedEvent(5, 6, 5), true);
    assert.equal(vringNeedEvent(5, 10, 0), true);
  });

  it("does not notify when the event index is not reached yet", () => {
    assert.equal(vringNeedEvent(10, 6, 5), false);
  });

  it("does not notify when the event index was already passed before old", () => {
    assert.equal(vringNeedEvent(3, 6, 5), false);
  });

  it("does not notify when nothing moved (old == new)", () => {
    assert.equal(vringNeedEvent(5, 5, 5), false);
  });

  it("works across the u16 wrap", () => {
    assert.equal(vringNeedEvent(0xffff, 1, 0xfffe), true);
    assert.equal(vringNeedEvent(0, 1, 0xffff), true);
    assert.equal(vringNeedEvent(2, 1, 0xffff), false);
  });

  it("equals 'event in [old, new) modulo 2^16' for every u16 triple (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        (event, old, n) => {
          const span = (n - old) & 0xffff;
          const offset = (event - old) & 0xffff;
          assert.equal(vringNeedEvent(event, n, old), offset < span);
        },
      ),
      { seed, numRuns: 2000 },
    );
  });
});
