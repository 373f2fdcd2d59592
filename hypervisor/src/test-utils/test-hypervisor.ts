// SPDX-License-Identifier: Apache-2.0
/**
 * A real hypervisor on loopback port 0 for gRPC-level tests, plus helpers to create domains
 * through the toolstack and talk to the guest API with the generated client — exactly what an
 * external harness does, in-process. Not part of the build's public surface.
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadHypervisorProto } from "@hmx/proto";
import type { HypervisorClient } from "@hmx/proto/gen/hmx/argo/v1/Hypervisor.js";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { embeddedHypervisorConfig, type HypervisorConfig } from "../config.js";
import { startHypervisor, type RunningHypervisor } from "../hypervisor.js";
import { ToolstackClient } from "@hmx/client";

export interface TestGuest {
  readonly domid: number;
  readonly credential: string;
  readonly client: HypervisorClient;
  readonly metadata: grpc.Metadata;
  /** Promisified unary call on this guest's client. */
  call<Res>(method: string, request: object, metadata?: grpc.Metadata): Promise<Res>;
}

export interface TestHypervisor {
  readonly hv: RunningHypervisor;
  readonly toolstack: ToolstackClient;
  readonly adminToken: string;
  /** Creates a domain labelled `${name}_t` unless `options.label` says otherwise. */
  createGuest(
    name: string,
    memoryBytes?: number,
    options?: { label?: string; privileged?: boolean },
  ): Promise<TestGuest>;
  stop(): Promise<void>;
}

export async function startTestHypervisor(
  overrides: Partial<HypervisorConfig> = {},
): Promise<TestHypervisor> {
  const adminToken = randomBytes(24).toString("base64url");
  const config: HypervisorConfig = { ...embeddedHypervisorConfig(adminToken), ...overrides };
  const hv = await startHypervisor(config, pino({ level: config.logLevel }));
  const toolstack = new ToolstackClient(hv.controlListen, adminToken);
  const clients: grpc.Client[] = [];
  const Hypervisor = loadHypervisorProto().hmx.argo.v1.Hypervisor;
  return {
    hv,
    toolstack,
    adminToken: config.adminToken,
    async createGuest(name, memoryBytes = 4 * 1024 * 1024, options = {}) {
      const { domid, credential } = await toolstack.createDomain({
        name,
        label: options.label ?? `${name}_t`,
        memoryBytes,
        privileged: options.privileged ?? false,
      });
      const client = new Hypervisor(
        hv.listen,
        grpc.credentials.createInsecure(),
        GRPC_MESSAGE_LIMITS,
      );
      clients.push(client);
      const metadata = bearerMetadata(credential);
      return {
        domid,
        credential,
        client,
        metadata,
        call<Res>(method: string, request: object, md: grpc.Metadata = metadata): Promise<Res> {
          return new Promise((resolve, reject) => {
            const fn = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[
              method
            ];
            if (fn === undefined) throw new Error(`no method ${method}`);
            fn.call(client, request, md, (err: grpc.ServiceError | null, res: Res) => {
              if (err !== null) reject(err);
              else resolve(res);
            });
          });
        },
      };
    },
    async stop() {
      for (const c of clients) c.close();
      toolstack.close();
      await hv.stop();
    },
  };
}
