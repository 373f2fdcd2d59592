// SPDX-License-Identifier: Apache-2.0
/**
 * The toolstack's virtio device RPCs (`AttachDevice`, `DetachDevice`, `ListDevices`) and the
 * conversion of `DeviceSpec` / `DeviceInfo` between the wire and `DeviceManager`'s own types —
 * the only device code that sees generated proto types (docs/architecture.md rule 3). The
 * placement itself, the tables at gfn 0 and the events are `devices/device-manager.ts`.
 */
import * as grpc from "@grpc/grpc-js";
import type { DeviceInfo } from "@hmx/proto/gen/hmx/toolstack/v1/DeviceInfo.js";
import type { DeviceSpec__Output } from "@hmx/proto/gen/hmx/toolstack/v1/DeviceSpec.js";
import type { ToolstackHandlers } from "@hmx/proto/gen/hmx/toolstack/v1/Toolstack.js";
import {
  DeviceConfigError,
  type DeviceManager,
  type DeviceSpecInput,
  type PlacedDevice,
} from "../devices/device-manager.js";
import { VIRTIO_ID_BLOCK, VIRTIO_ID_CONSOLE, VIRTIO_ID_NET } from "@hmx/proto/abi";
import type { DeviceType } from "@hmx/proto/gen/hmx/toolstack/v1/DeviceType.js";
import { GrpcError } from "./auth.js";
import { u64ToNumber } from "./codec.js";

/** The wire's device types and the VirtIO device ids (VirtIO 1.2 §5) the manager works with. */
type DeviceTypeName = Extract<DeviceType, string>;
const DEVICE_TYPES: readonly (readonly [DeviceTypeName, number])[] = [
  ["DEVICE_TYPE_NET", VIRTIO_ID_NET],
  ["DEVICE_TYPE_BLK", VIRTIO_ID_BLOCK],
  ["DEVICE_TYPE_CONSOLE", VIRTIO_ID_CONSOLE],
];
const TYPE_IDS: Record<string, number> = Object.fromEntries(DEVICE_TYPES);
const TYPE_NAMES = new Map(DEVICE_TYPES.map(([name, id]) => [id, name]));

/** A wire `DeviceSpec` as the manager takes it (0 / "" mean "default"). */
export function decodeDeviceSpec(s: DeviceSpec__Output): DeviceSpecInput {
  return {
    type: TYPE_IDS[s.type] ?? 0,
    backendDomid: s.backendDomid,
    name: s.name,
    capacityBytes: u64ToNumber(s.capacityBytes),
    readOnly: s.readOnly,
    imagePath: s.imagePath,
    mac: s.mac,
    queueSize: s.queueSize,
    ringLen: s.ringLen,
  };
}

export function encodeDeviceInfo(d: PlacedDevice): DeviceInfo {
  return {
    frontendDomid: d.frontendDomid,
    devIndex: d.devIndex,
    backendPort: d.backendPort,
    frontendPort: d.frontendPort,
    spec: {
      type: TYPE_NAMES.get(d.spec.type) ?? "DEVICE_TYPE_UNSPECIFIED",
      backendDomid: d.spec.backendDomid,
      name: d.spec.name,
      capacityBytes: String(d.spec.capacityBytes),
      readOnly: d.spec.readOnly,
      imagePath: d.spec.imagePath,
      mac: d.spec.mac,
      queueSize: d.spec.queueSize,
      ringLen: d.spec.ringLen,
    },
  };
}

/** The gRPC status for a refused device spec. */
export function deviceErrorStatus(err: DeviceConfigError): GrpcError {
  const code =
    err.kind === "notFound"
      ? grpc.status.NOT_FOUND
      : err.kind === "exhausted"
        ? grpc.status.RESOURCE_EXHAUSTED
        : grpc.status.INVALID_ARGUMENT;
  return new GrpcError(code, err.message);
}

type DeviceHandlers = Pick<ToolstackHandlers, "AttachDevice" | "DetachDevice" | "ListDevices">;

/** The three handlers; `wrap` adds admin auth and error mapping (toolstack-service.ts). */
export function createDeviceHandlers(
  devices: DeviceManager,
  wrap: <Req, Res>(body: (request: Req) => Res) => grpc.handleUnaryCall<Req, Res>,
): DeviceHandlers {
  const guard = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof DeviceConfigError) throw deviceErrorStatus(err);
      throw err;
    }
  };
  return {
    AttachDevice: wrap((r) => {
      if (r.device === null)
        throw new GrpcError(grpc.status.INVALID_ARGUMENT, "device is required");
      const spec = decodeDeviceSpec(r.device);
      const [placed] = guard(() => devices.attach(r.domid, [spec]));
      if (placed === undefined) throw new GrpcError(grpc.status.INTERNAL, "device not placed");
      return { device: encodeDeviceInfo(placed) };
    }),
    DetachDevice: wrap((r) => {
      guard(() => devices.detach(r.domid, r.devIndex));
      return {};
    }),
    ListDevices: wrap((r) => ({
      devices: devices.list(r.domid === 0 ? undefined : r.domid).map(encodeDeviceInfo),
    })),
  };
}
