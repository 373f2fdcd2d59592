// SPDX-License-Identifier: Apache-2.0
/**
 * gRPC server reflection (DESIGN §3.4) on a listener: `grpcurl` and reflection clients list and
 * describe every service the listener serves (its hmx service, `grpc.health.v1.Health`, and
 * reflection itself) without the .proto files. The descriptors come from the same package
 * definitions the servers were built from (@hmx/proto's loader), so they cannot drift.
 */
import type * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { LOADER_OPTIONS } from "@hmx/proto";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";
export const REFLECTION_SERVICE_NAMES = [
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
] as const;

let shared: protoLoader.PackageDefinition | undefined;

/** Health and reflection's own descriptors, loaded once from the packages that serve them. */
function sharedDefinitions(): protoLoader.PackageDefinition {
  if (shared === undefined) {
    const reflectionRoot = join(
      dirname(createRequire(import.meta.url).resolve("@grpc/reflection")),
      "..",
      "proto",
    );
    shared = protoLoader.loadSync(
      [
        healthProtoPath,
        join(reflectionRoot, "grpc/reflection/v1/reflection.proto"),
        join(reflectionRoot, "grpc/reflection/v1alpha/reflection.proto"),
      ],
      LOADER_OPTIONS,
    );
  }
  return shared;
}

/**
 * Adds reflection to `server`, describing `services` (fully qualified names) from `definition`
 * plus health and reflection.
 */
export function addReflection(
  server: grpc.Server,
  definition: protoLoader.PackageDefinition,
  services: readonly string[],
): void {
  new ReflectionService(
    { ...sharedDefinitions(), ...definition },
    { services: [...services, HEALTH_SERVICE_NAME, ...REFLECTION_SERVICE_NAMES] },
  ).addToServer(server);
}
