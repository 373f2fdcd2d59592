// SPDX-License-Identifier: Apache-2.0
/**
 * Loads the hmx .proto contracts at run time with @grpc/proto-loader and gives them the types
 * that `npm run gen` generated from the same files. Both sides (hypervisor, guest agents, bench,
 * external TypeScript harnesses) load the services from here so that loader options and
 * message-size limits are identical everywhere.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProtoGrpcType as HypervisorProto } from "./gen/hypervisor.js";
import type { ProtoGrpcType as ToolstackProto } from "./gen/toolstack.js";

/** Directory holding `hmx/argo/v1/*.proto` and `hmx/toolstack/v1/*.proto`. */
export const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * proto-loader options. MUST match the flags in `proto/scripts/gen.mjs`: 64-bit integers arrive
 * as decimal strings (never lossy numbers), enums as names, defaults filled in, and the
 * name of the set field of each oneof in a virtual property.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

/**
 * Largest gRPC message either side accepts: a 16 MiB Read/WriteMemory (the largest ring) plus
 * framing. grpc-js defaults to 4 MiB on receive, which would cut a full ring in half.
 */
export const MAX_GRPC_MESSAGE_BYTES = 16 * 1024 * 1024 + 64 * 1024;

/** Channel options every hmx client and server uses. */
export const GRPC_MESSAGE_LIMITS = {
  "grpc.max_receive_message_length": MAX_GRPC_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_GRPC_MESSAGE_BYTES,
} as const;

/**
 * HTTP/2 flow-control window of a Session's stream, each way: how many bytes a side may send
 * before the other's WINDOW_UPDATE. Node's default (64 KiB) holds a 256 KiB send batch, or a
 * read of a few 64 KiB messages, to one window per round trip (docs/performance.md,
 * "Flow-control windows"). The guest asks for it as a client (`grpc-node.flow_control_window`);
 * the hypervisor grants it on the connection of an authenticated Session.
 */
export const SESSION_FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

/**
 * Most ring bytes one VIRQ event may carry (`SessionOpen.virq_ring_bytes`): a virtio-blk ring's
 * 1 MiB request in one event. A Session has at most one VIRQ in the transport at a time, so this
 * is also what a guest that does not read its stream can make the service hold for it. The
 * hypervisor refuses a Session that asks for more; a guest asks for this much by default.
 */
export const VIRQ_RING_BYTES_MAX = 1024 * 1024 + 1024;

let hypervisorProto: HypervisorProto | undefined;
let toolstackProto: ToolstackProto | undefined;
let hypervisorDefinition: protoLoader.PackageDefinition | undefined;
let toolstackDefinition: protoLoader.PackageDefinition | undefined;

/**
 * The raw package definitions behind the two loaders (with their file descriptors), for
 * server reflection: what reflection describes is then exactly what the servers serve.
 */
export function hypervisorPackageDefinition(): protoLoader.PackageDefinition {
  hypervisorDefinition ??= protoLoader.loadSync("hmx/argo/v1/hypervisor.proto", LOADER_OPTIONS);
  return hypervisorDefinition;
}

export function toolstackPackageDefinition(): protoLoader.PackageDefinition {
  toolstackDefinition ??= protoLoader.loadSync("hmx/toolstack/v1/toolstack.proto", LOADER_OPTIONS);
  return toolstackDefinition;
}

/** The `hmx.argo.v1` package: service `Hypervisor` and its messages. */
export function loadHypervisorProto(): HypervisorProto {
  hypervisorProto ??= grpc.loadPackageDefinition(
    hypervisorPackageDefinition(),
  ) as unknown as HypervisorProto;
  return hypervisorProto;
}

/** The `hmx.toolstack.v1` package: service `Toolstack` and its messages. */
export function loadToolstackProto(): ToolstackProto {
  toolstackProto ??= grpc.loadPackageDefinition(
    toolstackPackageDefinition(),
  ) as unknown as ToolstackProto;
  return toolstackProto;
}

/** Metadata key carrying a unary call's at-most-once request id. */
export const REQUEST_ID_METADATA_KEY = "hmx-request-id";

/** `authorization: Bearer <token>` metadata for a domain credential or the admin token. */
export function bearerMetadata(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
}

export { parseHostPort } from "./host-port.js";
