// SPDX-License-Identifier: Apache-2.0
/**
 * Loads the baseline relay's contract, `bench/proto/relay.proto`, with `@grpc/proto-loader`
 * (bytes as Buffers) for both the relay server and its clients.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";

/** One relayed gRPC message: one `payload`, or several in `batch` (the batched baseline). */
export interface Frame {
  payload: Buffer;
  batch?: Buffer[];
}

/** Metadata key naming a stream's role: "sender" or "receiver". */
export const ROLE_METADATA_KEY = "bench-role";

export type RelayClient = grpc.Client & {
  Pipe(metadata: grpc.Metadata): grpc.ClientDuplexStream<Frame, Frame>;
};

interface RelayPackage {
  hmx: { bench: { v1: { Relay: grpc.ServiceClientConstructor } } };
}

export function loadRelayService(): grpc.ServiceClientConstructor {
  const path = fileURLToPath(new URL("../proto/relay.proto", import.meta.url));
  const definition = protoLoader.loadSync(path, { keepCase: false, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as RelayPackage;
  return pkg.hmx.bench.v1.Relay;
}
