// SPDX-License-Identifier: Apache-2.0
/**
 * Caller identity from the authenticated connection, never from a request field: a guest is the
 * domain whose credential it presents in `authorization: Bearer <credential>`; the toolstack
 * needs the admin token. Tokens are compared in constant time and never logged.
 */
import * as grpc from "@grpc/grpc-js";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Domain } from "../domain/domain.js";
import type { DomainRegistry } from "../domain/domain-registry.js";

/** A gRPC error with a status code, as grpc-js handlers pass to callbacks or `destroy`. */
export class GrpcError extends Error implements Partial<grpc.StatusObject> {
  override readonly name = "GrpcError";
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

/** The bearer token of a call, or undefined. */
export function bearerToken(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get("authorization")[0];
  if (typeof value !== "string") return undefined;
  const match = /^Bearer (\S+)$/.exec(value);
  return match?.[1];
}

/** The calling domain, or a GrpcError(UNAUTHENTICATED). */
export function authenticateGuest(registry: DomainRegistry, metadata: grpc.Metadata): Domain {
  const token = bearerToken(metadata);
  if (token === undefined) {
    throw new GrpcError(
      grpc.status.UNAUTHENTICATED,
      "missing 'authorization: Bearer <domain credential>' metadata",
    );
  }
  const domain = registry.authenticate(token);
  if (domain === undefined) {
    throw new GrpcError(grpc.status.UNAUTHENTICATED, "unknown, revoked or wrong-kind credential");
  }
  return domain;
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Checks the toolstack's admin token in constant time. */
export class AdminAuth {
  private readonly expected: Buffer;

  constructor(adminToken: string) {
    this.expected = digest(adminToken);
  }

  check(metadata: grpc.Metadata): void {
    const token = bearerToken(metadata);
    if (token === undefined || !timingSafeEqual(digest(token), this.expected)) {
      throw new GrpcError(grpc.status.UNAUTHENTICATED, "missing or wrong admin token");
    }
  }
}
