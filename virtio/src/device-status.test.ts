// SPDX-License-Identifier: Apache-2.0
/** The device status state machine (VirtIO 1.2 §2.1, §3.1.1) as a transition table. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRV,
  VIRTIO_CONFIG_S_DRIVER_OK as DOK,
  VIRTIO_CONFIG_S_FAILED as FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK as FOK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  classifyStatusWrite,
  describeStatus,
} from "./device-status.js";

describe("device status (VirtIO 1.2 §2.1)", () => {
  it("status bit values are the spec's: 1, 2, 4, 8, 64, 128", () => {
    assert.deepEqual(
      [ACK, DRV, DOK, FOK, VIRTIO_CONFIG_S_NEEDS_RESET, FAILED],
      [1, 2, 4, 8, 64, 128],
    );
  });

  it("each initialization step is valid in order", () => {
    assert.deepEqual(classifyStatusWrite(0, ACK), { kind: "step", added: ACK });
    assert.deepEqual(classifyStatusWrite(ACK, ACK | DRV), { kind: "step", added: DRV });
    assert.deepEqual(classifyStatusWrite(ACK | DRV, ACK | DRV | FOK), { kind: "step", added: FOK });
    assert.deepEqual(classifyStatusWrite(ACK | DRV | FOK, ACK | DRV | FOK | DOK), {
      kind: "step",
      added: DOK,
    });
  });

  it("writing 0 is a reset from any state", () => {
    for (const s of [0, ACK, ACK | DRV | FOK | DOK, ACK | FAILED])
      assert.equal(classifyStatusWrite(s, 0).kind, "reset");
  });

  it("FAILED may be added at any step but not from 0", () => {
    assert.equal(classifyStatusWrite(ACK | DRV, ACK | DRV | FAILED).kind, "failed");
    assert.equal(
      classifyStatusWrite(ACK | DRV | FOK | DOK, ACK | DRV | FOK | DOK | FAILED).kind,
      "failed",
    );
    assert.equal(classifyStatusWrite(0, FAILED).kind, "invalid");
  });

  it("skipping a step, clearing a bit, or DRIVER_OK without FEATURES_OK is invalid", () => {
    assert.equal(classifyStatusWrite(0, ACK | DRV).kind, "invalid");
    assert.equal(classifyStatusWrite(ACK | DRV, ACK).kind, "invalid");
    assert.equal(classifyStatusWrite(ACK | DRV, ACK | DRV | DOK).kind, "invalid");
    assert.equal(classifyStatusWrite(ACK | DRV | FOK, DRV | FOK).kind, "invalid");
  });

  it("DEVICE_NEEDS_RESET in a driver write is ignored (device-owned bit)", () => {
    assert.equal(classifyStatusWrite(ACK, ACK | VIRTIO_CONFIG_S_NEEDS_RESET).kind, "unchanged");
  });

  it("describeStatus names the bits", () => {
    assert.equal(describeStatus(ACK | DRV | FAILED), "ACKNOWLEDGE|DRIVER|FAILED");
    assert.equal(describeStatus(0), "0");
  });
});
