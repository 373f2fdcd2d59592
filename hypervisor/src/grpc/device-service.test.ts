// SPDX-License-Identifier: Apache-2.0
import { VIRTIO_ID_BLOCK, VIRTIO_ID_CONSOLE, VIRTIO_ID_NET } from "@hmx/proto/abi";
import type { DeviceSpec__Output } from "@hmx/proto/gen/hmx/toolstack/v1/DeviceSpec.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PlacedDevice } from "../devices/device-manager.js";
import { decodeDeviceSpec, encodeDeviceInfo } from "./device-service.js";

const wireSpec = (type: DeviceSpec__Output["type"]): DeviceSpec__Output => ({
  type,
  backendDomid: 1,
  name: "",
  capacityBytes: "0",
  readOnly: false,
  imagePath: "",
  mac: "",
  queueSize: 0,
  ringLen: 0,
});

test("the wire's device types are the VirtIO device ids, both ways; an unknown type is 0 / unspecified", () => {
  const pairs = [
    ["DEVICE_TYPE_NET", VIRTIO_ID_NET],
    ["DEVICE_TYPE_BLK", VIRTIO_ID_BLOCK],
    ["DEVICE_TYPE_CONSOLE", VIRTIO_ID_CONSOLE],
  ] as const;
  for (const [name, id] of pairs) {
    const spec = decodeDeviceSpec(wireSpec(name));
    assert.equal(spec.type, id, name);
    const placed = {
      frontendDomid: 2,
      devIndex: 0,
      backendPort: 0,
      frontendPort: 0,
      spec,
    } as unknown as PlacedDevice;
    assert.equal(encodeDeviceInfo(placed).spec?.type, name, `${id} goes back out as ${name}`);
  }
  assert.equal(decodeDeviceSpec(wireSpec("DEVICE_TYPE_UNSPECIFIED")).type, 0);
  const unknown = {
    frontendDomid: 2,
    devIndex: 0,
    backendPort: 0,
    frontendPort: 0,
    spec: { ...decodeDeviceSpec(wireSpec("DEVICE_TYPE_NET")), type: 9 },
  } as unknown as PlacedDevice;
  assert.equal(encodeDeviceInfo(unknown).spec?.type, "DEVICE_TYPE_UNSPECIFIED");
});
