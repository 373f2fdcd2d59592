// SPDX-License-Identifier: Apache-2.0
/**
 * A small promise-based client of `hmx.toolstack.v1.Toolstack` for the CLI, the benchmark,
 * tests and TypeScript harnesses. 64-bit counters come back as numbers (they are counts far
 * below 2^53 in any run).
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadToolstackProto } from "@hmx/proto";
import type { DomainSummary__Output } from "@hmx/proto/gen/hmx/toolstack/v1/DomainSummary.js";
import type { ToolstackClient as GeneratedClient } from "@hmx/proto/gen/hmx/toolstack/v1/Toolstack.js";

export interface DomainCountersView {
  readonly hypercalls: number;
  readonly errors: number;
  readonly messagesSent: number;
  readonly bytesSent: number;
  readonly messagesReceived: number;
  readonly bytesReceived: number;
  readonly virqs: number;
}

export interface DomainView {
  readonly domid: number;
  readonly name: string;
  readonly label: string;
  readonly memoryBytes: number;
  readonly memoryResidentBytes: number;
  readonly rings: number;
  readonly connected: boolean;
  readonly counters: DomainCountersView;
}

function toView(d: DomainSummary__Output): DomainView {
  const c = d.counters;
  return {
    domid: d.domid,
    name: d.name,
    label: d.label,
    memoryBytes: Number(d.memoryBytes),
    memoryResidentBytes: Number(d.memoryResidentBytes),
    rings: d.rings,
    connected: d.connected,
    counters: {
      hypercalls: Number(c?.hypercalls ?? 0),
      errors: Number(c?.errors ?? 0),
      messagesSent: Number(c?.messagesSent ?? 0),
      bytesSent: Number(c?.bytesSent ?? 0),
      messagesReceived: Number(c?.messagesReceived ?? 0),
      bytesReceived: Number(c?.bytesReceived ?? 0),
      virqs: Number(c?.virqs ?? 0),
    },
  };
}

export class ToolstackClient {
  private readonly client: GeneratedClient;
  private readonly metadata: grpc.Metadata;

  constructor(address: string, adminToken: string) {
    const Ctor = loadToolstackProto().hmx.toolstack.v1.Toolstack;
    this.client = new Ctor(address, grpc.credentials.createInsecure(), GRPC_MESSAGE_LIMITS);
    this.metadata = bearerMetadata(adminToken);
  }

  createDomain(request: { name: string; label: string; memoryBytes: number }): Promise<{ domid: number; credential: string }> {
    return new Promise((resolve, reject) => {
      this.client.createDomain(
        { name: request.name, label: request.label, memoryBytes: String(request.memoryBytes) },
        this.metadata,
        (err, res) => {
          if (err !== null || res === undefined) reject(err ?? new Error("empty CreateDomain reply"));
          else resolve({ domid: res.domid, credential: res.credential });
        },
      );
    });
  }

  destroyDomain(domid: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.destroyDomain({ domid }, this.metadata, (err) => {
        if (err !== null) reject(err);
        else resolve();
      });
    });
  }

  listDomains(): Promise<DomainView[]> {
    return new Promise((resolve, reject) => {
      this.client.listDomains({}, this.metadata, (err, res) => {
        if (err !== null || res === undefined) reject(err ?? new Error("empty ListDomains reply"));
        else resolve(res.domains.map(toView));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
